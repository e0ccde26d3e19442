-- +goose Up
-- modify "outbox_events" table
ALTER TABLE "outbox_events" ADD COLUMN "trace_context" jsonb NULL;

-- +goose Down
-- reverse: modify "outbox_events" table
ALTER TABLE "outbox_events" DROP COLUMN "trace_context";
