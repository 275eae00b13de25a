DROP TABLE publish_targets;
