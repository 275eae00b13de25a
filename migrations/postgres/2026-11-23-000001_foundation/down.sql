DROP TABLE idempotency_keys;
DROP TABLE api_tokens;
DROP TABLE refresh_tokens;
DROP TABLE invitations;
DROP TABLE memberships;
DROP TABLE workspaces;
DROP TABLE users;
