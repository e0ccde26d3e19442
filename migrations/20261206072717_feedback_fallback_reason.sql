-- +goose Up
-- modify "feedbacks" table
ALTER TABLE "feedbacks" ADD COLUMN "fallback_reason" text NULL;

-- +goose Down
-- reverse: modify "feedbacks" table
ALTER TABLE "feedbacks" DROP COLUMN "fallback_reason";
