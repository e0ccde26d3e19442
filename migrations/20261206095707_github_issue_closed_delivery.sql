-- +goose Up
-- modify "github_issues" table
ALTER TABLE "github_issues" ADD COLUMN "closed_delivery" character varying NULL;

-- +goose Down
-- reverse: modify "github_issues" table
ALTER TABLE "github_issues" DROP COLUMN "closed_delivery";
