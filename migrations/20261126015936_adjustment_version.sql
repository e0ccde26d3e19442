-- +goose Up
-- modify "adjustments" table
ALTER TABLE "adjustments" ADD COLUMN "version" bigint NOT NULL DEFAULT 1;

-- +goose Down
-- reverse: modify "adjustments" table
ALTER TABLE "adjustments" DROP COLUMN "version";
