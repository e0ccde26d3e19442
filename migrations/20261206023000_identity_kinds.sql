-- +goose Up
-- modify "api_keys" table
ALTER TABLE "api_keys" ADD COLUMN "admin_key_fingerprint" bytea NULL;
-- drop index "users_subject_key" from table: "users"
DROP INDEX "users_subject_key";
-- modify "users" table
ALTER TABLE "users" ADD COLUMN "kind" character varying NOT NULL DEFAULT 'EXTERNAL', ADD COLUMN "issuer" character varying NOT NULL DEFAULT '';
-- written by hand: the built-in identities take their kinds from the admin flag before it goes;
-- every other user stays EXTERNAL with no issuer, as a token without iss is
UPDATE "users" SET "kind" = 'ADMIN_KEY' WHERE "admin" AND "subject" = 'admin-api-key';
UPDATE "users" SET "kind" = 'LOCAL_ADMIN' WHERE "admin" AND "subject" = 'local-admin';
-- modify "users" table
ALTER TABLE "users" DROP COLUMN "admin";
-- create index "user_kind_issuer_subject" to table: "users"
CREATE UNIQUE INDEX "user_kind_issuer_subject" ON "users" ("kind", "issuer", "subject");

-- +goose Down
-- reverse: create index "user_kind_issuer_subject" to table: "users"
DROP INDEX "user_kind_issuer_subject";
-- reverse: modify "users" table
ALTER TABLE "users" ADD COLUMN "admin" boolean NOT NULL DEFAULT false;
-- written by hand: the built-in identities are admins again
UPDATE "users" SET "admin" = true WHERE "kind" <> 'EXTERNAL';
-- reverse: modify "users" table
ALTER TABLE "users" DROP COLUMN "issuer", DROP COLUMN "kind";
-- reverse: drop index "users_subject_key" from table: "users"
-- (fails while two users of different kinds or issuers share a subject)
CREATE UNIQUE INDEX "users_subject_key" ON "users" ("subject");
-- reverse: modify "api_keys" table
ALTER TABLE "api_keys" DROP COLUMN "admin_key_fingerprint";
