-- SMS that really leave: the template a provider sends (kind, params), and each message's
-- dispatch: attempts, when it is next tried (wall-clock ms; 0: at once), the provider's id for
-- it, the last error, and failed_at once a provider refused it for good.
ALTER TABLE sms_outbox ADD COLUMN kind TEXT NOT NULL DEFAULT '';
ALTER TABLE sms_outbox ADD COLUMN params TEXT NOT NULL DEFAULT '{}';
ALTER TABLE sms_outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sms_outbox ADD COLUMN next_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sms_outbox ADD COLUMN failed_at INTEGER;
ALTER TABLE sms_outbox ADD COLUMN provider_id TEXT;
ALTER TABLE sms_outbox ADD COLUMN last_error TEXT;
DROP INDEX sms_unsent;
CREATE INDEX sms_unsent ON sms_outbox (next_at, id) WHERE sent_at IS NULL AND failed_at IS NULL;
