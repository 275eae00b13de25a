-- The media library: one row per file per workspace. The bytes live in the
-- media store under their SHA-256, shared by every row that names it.
CREATE TABLE media (
    id TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    sha256 TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    width INTEGER,
    height INTEGER,
    original_filename TEXT,
    alt_text TEXT,
    version BIGINT NOT NULL DEFAULT 1,
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (workspace_id, sha256)
);
CREATE INDEX media_workspace_id ON media (workspace_id, id);
CREATE INDEX media_sha256 ON media (sha256);
