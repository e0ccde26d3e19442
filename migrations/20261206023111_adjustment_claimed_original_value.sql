-- +goose Up
-- modify "adjustments" table
ALTER TABLE "adjustments" ADD COLUMN "claimed_original_value" text NULL;

-- +goose Down
-- reverse: modify "adjustments" table
ALTER TABLE "adjustments" DROP COLUMN "claimed_original_value";
