DROP TABLE metric_group_rollups;
