-- Channels, posts with per-channel variants, and the approval workflow.

-- Where a workspace's calendar lives and who needs approval.
ALTER TABLE workspaces ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE workspaces ADD COLUMN approval_roles TEXT NOT NULL DEFAULT '["community_manager"]';
ALTER TABLE workspaces ADD COLUMN approvals_required INTEGER NOT NULL DEFAULT 1;

-- A connected platform account. Credentials are sealed (AEAD, bound to the
-- row's id) and never leave the server.
CREATE TABLE channels (
    id TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    plugin_id TEXT NOT NULL,
    name TEXT NOT NULL,
    config TEXT NOT NULL,
    status TEXT NOT NULL,
    status_reason TEXT,
    account_id TEXT NOT NULL,
    account_handle TEXT NOT NULL,
    account_name TEXT,
    account_followers BIGINT,
    credentials TEXT,
    credentials_key_id TEXT,
    token_expires_at TIMESTAMP,
    posting_slots TEXT NOT NULL DEFAULT '[]',
    checked_at TIMESTAMP,
    version BIGINT NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (workspace_id, plugin_id, account_id)
);
CREATE INDEX channels_workspace_id ON channels (workspace_id, id);

-- An OAuth2 authorization in progress: the state (by digest) and the sealed
-- PKCE verifier, until the callback consumes it.
CREATE TABLE channel_authorizations (
    state_hash TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    channel_id TEXT NOT NULL,
    plugin_id TEXT NOT NULL,
    name TEXT NOT NULL,
    config TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE posts (
    id TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    author_id TEXT NOT NULL REFERENCES users (id),
    body TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    media_ids TEXT NOT NULL DEFAULT '[]',
    campaign_id TEXT REFERENCES campaigns (id) ON DELETE SET NULL,
    event_id TEXT REFERENCES events (id) ON DELETE SET NULL,
    utm TEXT,
    status TEXT NOT NULL,
    scheduled_at TIMESTAMP,
    published_at TIMESTAMP,
    review_round INTEGER NOT NULL DEFAULT 0,
    approvals_required INTEGER NOT NULL DEFAULT 0,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX posts_workspace_id ON posts (workspace_id, id);
CREATE INDEX posts_workspace_scheduled ON posts (workspace_id, scheduled_at);
CREATE INDEX posts_workspace_status ON posts (workspace_id, status);

-- The post as told on one channel.
CREATE TABLE post_variants (
    post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    channel_id TEXT NOT NULL REFERENCES channels (id),
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    text TEXT,
    media_ids TEXT,
    options TEXT NOT NULL DEFAULT '{}',
    follow_ups TEXT NOT NULL DEFAULT '[]',
    utm TEXT,
    PRIMARY KEY (post_id, channel_id)
);
CREATE INDEX post_variants_channel ON post_variants (channel_id);

-- Who moved a post from one status to another, when and why.
CREATE TABLE post_transitions (
    id TEXT PRIMARY KEY NOT NULL,
    post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    action TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    actor_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    reason TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX post_transitions_post ON post_transitions (post_id, id);

-- One approval per person per review round.
CREATE TABLE post_approvals (
    post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    review_round INTEGER NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (post_id, review_round, user_id)
);

-- Every saved edit: the post's content as it was after that version.
CREATE TABLE post_revisions (
    id TEXT PRIMARY KEY NOT NULL,
    post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    content TEXT NOT NULL,
    author_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (post_id, version)
);

-- Internal discussion of a post; never published.
CREATE TABLE post_comments (
    id TEXT PRIMARY KEY NOT NULL,
    post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    author_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    mentions TEXT NOT NULL DEFAULT '[]',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX post_comments_post ON post_comments (post_id, id);
