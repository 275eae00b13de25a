-- Reports by week or by month read roll-ups of their own (period 'week':
-- weeks starting on Monday; 'month': calendar months; both UTC), not the
-- daily ones added up: a six-month report by post reads 26 rows per series
-- instead of 182. From now on every sample is rolled up into its hour, day,
-- week and month; the samples stored before are rolled up here from the
-- daily roll-ups, which hold all of them.
INSERT INTO metric_rollups (series_id, period, bucket, workspace_id, channel_id, post_id, metric, gain, last_value, samples)
SELECT series_id, 'week', date_trunc('week', bucket), workspace_id, channel_id, post_id, metric,
       SUM(gain), (array_agg(last_value ORDER BY bucket DESC))[1], SUM(samples)
FROM metric_rollups
WHERE period = 'day'
GROUP BY series_id, date_trunc('week', bucket), workspace_id, channel_id, post_id, metric;

INSERT INTO metric_rollups (series_id, period, bucket, workspace_id, channel_id, post_id, metric, gain, last_value, samples)
SELECT series_id, 'month', date_trunc('month', bucket), workspace_id, channel_id, post_id, metric,
       SUM(gain), (array_agg(last_value ORDER BY bucket DESC))[1], SUM(samples)
FROM metric_rollups
WHERE period = 'day'
GROUP BY series_id, date_trunc('month', bucket), workspace_id, channel_id, post_id, metric;
