-- The small key-value store each (plugin, channel) pair gets, kept in the
-- database so it survives restarts and is shared by every replica.
-- Values are base64 text (up to 64 KiB decoded): one column type on both backends.
CREATE TABLE plugin_kv (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (scope, key)
);
