-- Plugins an instance administrator took away from workspaces. Plugins are
-- enabled unless listed here, so a newly loaded plugin is usable at once.
CREATE TABLE disabled_plugins (
    plugin_id TEXT PRIMARY KEY NOT NULL,
    disabled_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    disabled_at TIMESTAMP NOT NULL
);
