-- +goose Up
-- modify "feedbacks" table
ALTER TABLE "feedbacks" ADD COLUMN "input_tokens" bigint NULL, ADD COLUMN "output_tokens" bigint NULL, ADD COLUMN "estimated_cost" double precision NULL;
-- create index "feedback_project_id_processed_at" to table: "feedbacks"
CREATE INDEX "feedback_project_id_processed_at" ON "feedbacks" ("project_id", "processed_at") WHERE (estimated_cost IS NOT NULL);

-- +goose Down
-- reverse: create index "feedback_project_id_processed_at" to table: "feedbacks"
DROP INDEX "feedback_project_id_processed_at";
-- reverse: modify "feedbacks" table
ALTER TABLE "feedbacks" DROP COLUMN "estimated_cost", DROP COLUMN "output_tokens", DROP COLUMN "input_tokens";
