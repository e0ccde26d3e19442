-- +goose Up
-- modify "project_members" table
ALTER TABLE "project_members" ADD COLUMN "digest" character varying NOT NULL DEFAULT 'NONE', ADD COLUMN "digest_email" character varying NULL, ADD COLUMN "digest_sent_at" timestamptz NULL;
-- create index "projectmember_digest_digest_sent_at" to table: "project_members"
CREATE INDEX "projectmember_digest_digest_sent_at" ON "project_members" ("digest", "digest_sent_at");

-- +goose Down
-- reverse: create index "projectmember_digest_digest_sent_at" to table: "project_members"
DROP INDEX "projectmember_digest_digest_sent_at";
-- reverse: modify "project_members" table
ALTER TABLE "project_members" DROP COLUMN "digest_sent_at", DROP COLUMN "digest_email", DROP COLUMN "digest";
