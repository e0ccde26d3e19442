-- +goose Up
-- modify "adjustments" table
ALTER TABLE "adjustments" ADD COLUMN "confidence" double precision NULL;

-- +goose Down
-- reverse: modify "adjustments" table
ALTER TABLE "adjustments" DROP COLUMN "confidence";
