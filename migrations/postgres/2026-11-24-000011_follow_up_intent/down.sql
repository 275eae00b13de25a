ALTER TABLE publish_targets DROP COLUMN follow_up_sending;
