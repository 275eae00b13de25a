-- Reports by week or by month read roll-ups of their own (period 'week':
-- weeks starting on Monday; 'month': calendar months; both UTC), not the
-- daily ones added up: a six-month report by post reads 26 rows per series
-- instead of 182. From now on every sample is rolled up into its hour, day,
-- week and month; the samples stored before are rolled up here from the
-- daily roll-ups, which hold all of them. (With MAX(bucket) in the inner
-- query, SQLite takes last_value from the group's latest day.)
INSERT INTO metric_rollups (series_id, period, bucket, workspace_id, channel_id, post_id, metric, gain, last_value, samples)
SELECT series_id, 'week', week, workspace_id, channel_id, post_id, metric, gain, last_value, samples
FROM (
    SELECT series_id,
           datetime(bucket, 'start of day', '-' || ((CAST(strftime('%w', bucket) AS INTEGER) + 6) % 7) || ' days') AS week,
           workspace_id, channel_id, post_id, metric,
           SUM(gain) AS gain, last_value, SUM(samples) AS samples, MAX(bucket) AS latest
    FROM metric_rollups
    WHERE period = 'day'
    GROUP BY series_id, week
);

INSERT INTO metric_rollups (series_id, period, bucket, workspace_id, channel_id, post_id, metric, gain, last_value, samples)
SELECT series_id, 'month', month, workspace_id, channel_id, post_id, metric, gain, last_value, samples
FROM (
    SELECT series_id,
           datetime(bucket, 'start of month') AS month,
           workspace_id, channel_id, post_id, metric,
           SUM(gain) AS gain, last_value, SUM(samples) AS samples, MAX(bucket) AS latest
    FROM metric_rollups
    WHERE period = 'day'
    GROUP BY series_id, month
);
