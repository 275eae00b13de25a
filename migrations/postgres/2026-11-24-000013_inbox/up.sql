-- The inbox: conversations from every channel, the people behind them,
-- and the rules, saved replies and people that triage them.

-- Business hours, SLA targets, the spike policy and reply approval (JSON).
ALTER TABLE workspaces ADD COLUMN inbox_settings TEXT NOT NULL DEFAULT '{}';

-- A person of the community: one contact may hold identities on several
-- platforms (merged by hand, split again).
CREATE TABLE contacts (
    id TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    display_name TEXT NOT NULL,
    notes TEXT,
    -- JSON arrays of names.
    tags TEXT NOT NULL DEFAULT '[]',
    lists TEXT NOT NULL DEFAULT '[]',
    -- Marked by a member as one of the brand's advocates.
    advocate BOOLEAN NOT NULL DEFAULT FALSE,
    -- The largest audience among its identities.
    followers BIGINT,
    advocacy_score DOUBLE PRECISION NOT NULL DEFAULT 0,
    interactions BIGINT NOT NULL DEFAULT 0,
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX contacts_workspace ON contacts (workspace_id, id);
CREATE INDEX contacts_advocacy ON contacts (workspace_id, advocacy_score);

-- An account on one platform, belonging to one contact.
CREATE TABLE contact_identities (
    id TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    contact_id TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    handle TEXT NOT NULL,
    display_name TEXT,
    followers BIGINT,
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    UNIQUE (workspace_id, platform, remote_id)
);
CREATE INDEX contact_identities_contact ON contact_identities (contact_id);

-- One mention, comment, message, review or listening hit; at most one per
-- (channel, remote id), however many times polling and webhooks see it.
CREATE TABLE inbox_items (
    id TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    channel_id TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    kind TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    -- The conversation: the platform's thread, else the parent, else itself.
    thread_remote_id TEXT NOT NULL,
    parent_remote_id TEXT,
    -- The brand's post it answers: remote id, and Plaza's post when known.
    post_remote_id TEXT,
    post_id TEXT,
    listening_query_id TEXT,
    contact_id TEXT REFERENCES contacts (id) ON DELETE SET NULL,
    author_remote_id TEXT NOT NULL,
    author_handle TEXT NOT NULL,
    author_name TEXT,
    author_followers BIGINT,
    body TEXT NOT NULL,
    url TEXT,
    lang TEXT,
    sentiment_score DOUBLE PRECISION,
    sentiment_label TEXT,
    status TEXT NOT NULL,
    priority TEXT NOT NULL,
    assignee_id TEXT,
    -- JSON array of tag names.
    tags TEXT NOT NULL DEFAULT '[]',
    -- poll, webhook or listening.
    source TEXT NOT NULL,
    remote_created_at TIMESTAMP NOT NULL,
    received_at TIMESTAMP NOT NULL,
    first_response_due_at TIMESTAMP,
    first_response_at TIMESTAMP,
    resolution_due_at TIMESTAMP,
    resolved_at TIMESTAMP,
    version BIGINT NOT NULL DEFAULT 1,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (channel_id, remote_id)
);
CREATE INDEX inbox_items_workspace ON inbox_items (workspace_id, id);
CREATE INDEX inbox_items_status ON inbox_items (workspace_id, status, id);
CREATE INDEX inbox_items_assignee ON inbox_items (workspace_id, assignee_id, id);
CREATE INDEX inbox_items_thread ON inbox_items (workspace_id, thread_remote_id);
CREATE INDEX inbox_items_contact ON inbox_items (contact_id, id);
CREATE INDEX inbox_items_received ON inbox_items (workspace_id, received_at);

-- A reply written in Plaza, sent through the channel's plugin.
CREATE TABLE inbox_replies (
    id TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    item_id TEXT NOT NULL REFERENCES inbox_items (id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    saved_reply_id TEXT,
    status TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    remote_id TEXT,
    remote_url TEXT,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    approved_by TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX inbox_replies_item ON inbox_replies (item_id, id);
CREATE INDEX inbox_replies_workspace ON inbox_replies (workspace_id, status, id);

-- Who did what to which item or contact, when and why: members, rules
-- (with the rule's version) and the system.
CREATE TABLE moderation_log (
    id TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    item_id TEXT,
    contact_id TEXT,
    actor_kind TEXT NOT NULL,
    actor_id TEXT,
    rule_version INTEGER,
    action TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}',
    reason TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX moderation_log_workspace ON moderation_log (workspace_id, id);
CREATE INDEX moderation_log_item ON moderation_log (item_id, id);

-- Ordered, versioned rules; every change keeps the old version.
CREATE TABLE inbox_rules (
    id TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    enabled BOOLEAN NOT NULL,
    version INTEGER NOT NULL,
    definition TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX inbox_rules_workspace ON inbox_rules (workspace_id, position);

CREATE TABLE inbox_rule_versions (
    rule_id TEXT NOT NULL REFERENCES inbox_rules (id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    definition TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (rule_id, version)
);

CREATE TABLE saved_replies (
    id TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX saved_replies_workspace ON saved_replies (workspace_id, id);

-- Searches run through a channel's plugin; hits land in the inbox.
CREATE TABLE listening_queries (
    id TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    channel_id TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    -- brand, competitor or topic.
    subject TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX listening_queries_workspace ON listening_queries (workspace_id, id);
CREATE INDEX listening_queries_channel ON listening_queries (channel_id);

-- Where each stream of a channel was last read up to.
CREATE TABLE inbox_cursors (
    channel_id TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    stream TEXT NOT NULL,
    cursor TEXT,
    polled_at TIMESTAMP NOT NULL,
    error TEXT,
    PRIMARY KEY (channel_id, stream)
);

-- Platform webhooks already taken, so a replay creates nothing.
CREATE TABLE webhook_receipts (
    channel_id TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL,
    PRIMARY KEY (channel_id, digest)
);
CREATE INDEX webhook_receipts_received ON webhook_receipts (received_at);

-- Where each round-robin pool of assignees stands.
CREATE TABLE assignment_rotations (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    pool TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, pool)
);

-- A spike of negative items in one hour, against the recent baseline.
CREATE TABLE inbox_alerts (
    id TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    hour_start TIMESTAMP NOT NULL,
    observed BIGINT NOT NULL,
    expected DOUBLE PRECISION NOT NULL,
    z_score DOUBLE PRECISION NOT NULL,
    item_ids TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    acknowledged_at TIMESTAMP,
    acknowledged_by TEXT,
    UNIQUE (workspace_id, hour_start)
);
