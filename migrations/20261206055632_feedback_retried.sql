-- +goose Up
-- modify "feedbacks" table
ALTER TABLE "feedbacks" ADD COLUMN "retried_by_id" bigint NULL, ADD COLUMN "retried_at" timestamptz NULL;
-- create index "feedback_retried_at" to table: "feedbacks"
CREATE INDEX "feedback_retried_at" ON "feedbacks" ("retried_at") WHERE (retried_at IS NOT NULL);
-- create index "feedback_submitted_by_id_created_at" to table: "feedbacks"
CREATE INDEX "feedback_submitted_by_id_created_at" ON "feedbacks" ("submitted_by_id", "created_at");

-- +goose Down
-- reverse: create index "feedback_submitted_by_id_created_at" to table: "feedbacks"
DROP INDEX "feedback_submitted_by_id_created_at";
-- reverse: create index "feedback_retried_at" to table: "feedbacks"
DROP INDEX "feedback_retried_at";
-- reverse: modify "feedbacks" table
ALTER TABLE "feedbacks" DROP COLUMN "retried_at", DROP COLUMN "retried_by_id";
