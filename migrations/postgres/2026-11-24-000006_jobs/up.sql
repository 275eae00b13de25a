-- The durable job queue: all background work (publishing, token refresh,
-- polling, metrics) is a row here, claimed under a lease by one worker at a
-- time. See `api/src/jobs/mod.rs`.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT REFERENCES workspaces (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    unique_key TEXT,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at TIMESTAMP NOT NULL,
    lease_owner TEXT,
    lease_expires_at TIMESTAMP,
    fence BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);
-- Workers take the oldest due job of the kinds they serve.
CREATE INDEX jobs_claim ON jobs (status, run_at, id);
-- The rescuer looks for running jobs whose lease ran out.
CREATE INDEX jobs_lease ON jobs (status, lease_expires_at);
CREATE INDEX jobs_workspace_id ON jobs (workspace_id);
-- A key is unique among jobs not yet finished; a succeeded or dead job keeps
-- its key for the record but no longer holds it.
CREATE UNIQUE INDEX jobs_unique_key ON jobs (unique_key)
    WHERE status IN ('queued', 'running');
