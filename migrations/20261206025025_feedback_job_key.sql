-- +goose Up
-- modify "feedbacks" table
ALTER TABLE "feedbacks" ADD COLUMN "job_key" uuid NOT NULL DEFAULT gen_random_uuid();

-- +goose Down
-- reverse: modify "feedbacks" table
ALTER TABLE "feedbacks" DROP COLUMN "job_key";
