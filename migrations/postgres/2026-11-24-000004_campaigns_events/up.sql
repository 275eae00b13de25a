-- Campaigns, the events a community team runs, and who registered for them.
-- Money is an integer count of the currency's minor unit (cents) plus its
-- ISO 4217 code; booleans are INTEGER 0/1 (one schema for both backends).
CREATE TABLE campaigns (
    id TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    objective TEXT,
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    budget_amount_minor BIGINT,
    budget_currency TEXT,
    utm_source TEXT,
    utm_medium TEXT,
    utm_campaign TEXT NOT NULL,
    utm_term TEXT,
    utm_content TEXT,
    archived_at TIMESTAMP,
    version BIGINT NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (ends_on >= starts_on),
    CHECK ((budget_amount_minor IS NULL) = (budget_currency IS NULL)),
    CHECK (budget_amount_minor IS NULL OR budget_amount_minor >= 0)
);
CREATE INDEX campaigns_workspace_starts_on ON campaigns (workspace_id, starts_on, id);

CREATE TABLE events (
    id TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    campaign_id TEXT REFERENCES campaigns (id) ON DELETE SET NULL,
    title TEXT NOT NULL,
    description TEXT,
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    time_zone TEXT NOT NULL,
    online_url TEXT,
    place TEXT,
    capacity INTEGER,
    waitlist INTEGER NOT NULL DEFAULT 0,
    version BIGINT NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (ends_at > starts_at),
    CHECK (online_url IS NOT NULL OR place IS NOT NULL),
    CHECK (capacity IS NULL OR capacity > 0),
    CHECK (waitlist IN (0, 1))
);
CREATE INDEX events_workspace_starts_at ON events (workspace_id, starts_at, id);
CREATE INDEX events_campaign_id ON events (campaign_id);

CREATE TABLE event_registrations (
    id TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    note TEXT,
    status TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (event_id, email),
    CHECK (status IN ('registered', 'waitlisted', 'cancelled', 'attended', 'no_show'))
);
CREATE INDEX event_registrations_event_status ON event_registrations (event_id, status, id);
