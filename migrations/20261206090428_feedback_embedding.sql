-- +goose Up
-- modify "feedbacks" table
ALTER TABLE "feedbacks" ADD COLUMN "embedding" bytea NULL, ADD COLUMN "embedding_model" character varying NULL;

-- +goose Down
-- reverse: modify "feedbacks" table
ALTER TABLE "feedbacks" DROP COLUMN "embedding_model", DROP COLUMN "embedding";
