-- An API token's scope: `full` (its user's rights) or `integration` (a shop owner's token for the
-- shop's systems, which may also report payment, delivery and completion).
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'full';
