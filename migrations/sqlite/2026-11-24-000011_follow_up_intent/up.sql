-- The follow-up part (by index) whose platform call is under way: set before
-- the call and cleared after its outcome is recorded, so a crash in between
-- is reconciled (looked up by its idempotency key) instead of sent twice.
ALTER TABLE publish_targets ADD COLUMN follow_up_sending INTEGER;
