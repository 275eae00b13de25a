DELETE FROM metric_rollups WHERE period IN ('week', 'month');
