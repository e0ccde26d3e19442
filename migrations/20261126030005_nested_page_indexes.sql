-- +goose Up
-- create index "feedback_project_id_id" to table: "feedbacks"
CREATE INDEX "feedback_project_id_id" ON "feedbacks" ("project_id", "id");
-- create index "task_project_id_id" to table: "tasks"
CREATE INDEX "task_project_id_id" ON "tasks" ("project_id", "id");
-- create index "task_project_id_priority_id" to table: "tasks"
CREATE INDEX "task_project_id_priority_id" ON "tasks" ("project_id", "priority", "id");
-- create index "task_project_id_status" to table: "tasks"
CREATE INDEX "task_project_id_status" ON "tasks" ("project_id", "status");
-- drop index "task_project_id_priority" from table: "tasks" (task_project_id_priority_id serves it)
DROP INDEX "task_project_id_priority";

-- +goose Down
-- reverse: drop index "task_project_id_priority" from table: "tasks"
CREATE INDEX "task_project_id_priority" ON "tasks" ("project_id", "priority");
-- reverse: create index "task_project_id_status" to table: "tasks"
DROP INDEX "task_project_id_status";
-- reverse: create index "task_project_id_priority_id" to table: "tasks"
DROP INDEX "task_project_id_priority_id";
-- reverse: create index "task_project_id_id" to table: "tasks"
DROP INDEX "task_project_id_id";
-- reverse: create index "feedback_project_id_id" to table: "feedbacks"
DROP INDEX "feedback_project_id_id";
