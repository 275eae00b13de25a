-- One row per (post, channel) the publisher sends: the intent is recorded
-- (`sending`) before the platform call, so a crash between the call and its
-- record is found and reconciled instead of posting twice.
CREATE TABLE publish_targets (
    id TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    channel_id TEXT NOT NULL REFERENCES channels (id),
    status TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    remote_id TEXT,
    remote_url TEXT,
    follow_up_ids TEXT NOT NULL DEFAULT '[]',
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    published_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (post_id, channel_id)
);
CREATE INDEX publish_targets_channel ON publish_targets (channel_id);
