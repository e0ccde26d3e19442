-- +goose Up
-- create index "adjustment_feedback_id" to table: "adjustments"
CREATE INDEX "adjustment_feedback_id" ON "adjustments" ("feedback_id") INCLUDE ("adjustment_type", "status", "task_id");

-- +goose Down
-- reverse: create index "adjustment_feedback_id" to table: "adjustments"
DROP INDEX "adjustment_feedback_id";
