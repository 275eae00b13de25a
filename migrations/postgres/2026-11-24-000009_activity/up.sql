-- What changed in a workspace, in commit order per workspace: the source of
-- the live event stream (SSE, resumed by `seq`) and of webhook deliveries.
-- Written in the same transaction as the change it reports.
CREATE TABLE activity_events (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    subject_id TEXT,
    data TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL
);
CREATE INDEX activity_events_workspace ON activity_events (workspace_id, seq);
CREATE INDEX activity_events_occurred ON activity_events (occurred_at);
