-- Metrics: what the platforms report about the brand's accounts and posts,
-- kept as time series (samples, then hourly and daily roll-ups).

-- One measured thing: a metric of a channel's account, or of one post as
-- published on one channel (a publish target).
CREATE TABLE metric_series (
    id TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    channel_id TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    -- The publish target's id, or 'account'.
    subject TEXT NOT NULL,
    -- Plaza's post, for a post's series.
    post_id TEXT,
    metric TEXT NOT NULL,
    -- The latest sample: the next one's gain is measured from it.
    last_value DOUBLE PRECISION NOT NULL,
    last_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (channel_id, subject, metric)
);
CREATE INDEX metric_series_workspace ON metric_series (workspace_id, post_id);

-- Every value read, with its gain over the one before (the first sample's
-- gain is its value, so gains add up to the latest value).
CREATE TABLE metric_samples (
    series_id TEXT NOT NULL REFERENCES metric_series (id) ON DELETE CASCADE,
    measured_at TIMESTAMP NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    gain DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (series_id, measured_at)
);
CREATE INDEX metric_samples_measured ON metric_samples (measured_at);

-- Per series and hour or day: the gains summed and the last value. The
-- series' dimensions are copied in so a report reads one index range.
CREATE TABLE metric_rollups (
    series_id TEXT NOT NULL REFERENCES metric_series (id) ON DELETE CASCADE,
    -- 'hour' or 'day'.
    period TEXT NOT NULL,
    bucket TIMESTAMP NOT NULL,
    workspace_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    post_id TEXT,
    metric TEXT NOT NULL,
    gain DOUBLE PRECISION NOT NULL,
    last_value DOUBLE PRECISION NOT NULL,
    samples INTEGER NOT NULL,
    PRIMARY KEY (series_id, period, bucket)
);
CREATE INDEX metric_rollups_report ON metric_rollups (workspace_id, metric, period, bucket);

-- How collection goes, per channel: visible so a failing channel is noticed.
CREATE TABLE metric_collections (
    channel_id TEXT PRIMARY KEY NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    attempted_at TIMESTAMP NOT NULL,
    succeeded_at TIMESTAMP,
    account_collected_at TIMESTAMP,
    error TEXT,
    failures INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX metric_collections_workspace ON metric_collections (workspace_id);

-- When each published post was last read, for the decaying schedule.
CREATE TABLE post_metric_checks (
    target_id TEXT PRIMARY KEY NOT NULL REFERENCES publish_targets (id) ON DELETE CASCADE,
    checked_at TIMESTAMP NOT NULL
);

-- What the strategist aims for: a KPI, a target, a period and a scope.
CREATE TABLE objectives (
    id TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    -- A derived KPI's name, or 'metric:<name>'.
    kpi TEXT NOT NULL,
    target DOUBLE PRECISION NOT NULL,
    -- 'at_least' or 'at_most'.
    direction TEXT NOT NULL,
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    -- 'workspace', 'channel' or 'campaign', with the channel's or campaign's id.
    scope TEXT NOT NULL,
    scope_id TEXT,
    created_by TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX objectives_workspace ON objectives (workspace_id, id);
