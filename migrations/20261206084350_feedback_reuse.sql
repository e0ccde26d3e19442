-- +goose Up
-- trigram similarity of text (PostgreSQL's contrib; a trusted extension, so
-- the database's owner may create it): near-duplicate feedback
CREATE EXTENSION IF NOT EXISTS pg_trgm;
-- modify "feedbacks" table
ALTER TABLE "feedbacks" ADD COLUMN "normalized_text" text NULL, ADD COLUMN "normalized_text_hash" character varying NULL, ADD COLUMN "state_fingerprint" character varying NULL, ADD COLUMN "reused_from_id" bigint NULL, ADD CONSTRAINT "feedbacks_feedbacks_reuses" FOREIGN KEY ("reused_from_id") REFERENCES "feedbacks" ("id") ON UPDATE NO ACTION ON DELETE SET NULL;
-- create index "feedback_normalized_text" to table: "feedbacks"
CREATE INDEX "feedback_normalized_text" ON "feedbacks" USING gin ("normalized_text" gin_trgm_ops);
-- create index "feedback_project_id_state_fingerprint_normalized_text_hash" to table: "feedbacks"
CREATE INDEX "feedback_project_id_state_fingerprint_normalized_text_hash" ON "feedbacks" ("project_id", "state_fingerprint", "normalized_text_hash") WHERE (state_fingerprint IS NOT NULL);

-- +goose Down
-- reverse: create index "feedback_project_id_state_fingerprint_normalized_text_hash" to table: "feedbacks"
DROP INDEX "feedback_project_id_state_fingerprint_normalized_text_hash";
-- reverse: create index "feedback_normalized_text" to table: "feedbacks"
DROP INDEX "feedback_normalized_text";
-- reverse: modify "feedbacks" table
ALTER TABLE "feedbacks" DROP CONSTRAINT "feedbacks_feedbacks_reuses", DROP COLUMN "reused_from_id", DROP COLUMN "state_fingerprint", DROP COLUMN "normalized_text_hash", DROP COLUMN "normalized_text";
-- the extension stays: other objects may use it by now
