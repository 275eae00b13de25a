DROP TABLE objectives;
DROP TABLE post_metric_checks;
DROP TABLE metric_collections;
DROP TABLE metric_rollups;
DROP TABLE metric_samples;
DROP TABLE metric_series;
