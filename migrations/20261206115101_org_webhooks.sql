-- +goose Up
-- modify "webhooks" table
ALTER TABLE "webhooks" ADD CONSTRAINT "webhook_one_owner" CHECK ((project_id IS NULL) <> (organization_id IS NULL)), ALTER COLUMN "project_id" DROP NOT NULL, ADD COLUMN "organization_id" bigint NULL, ADD CONSTRAINT "webhooks_organizations_webhooks" FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id") ON UPDATE NO ACTION ON DELETE CASCADE;
-- create index "webhook_organization_id" to table: "webhooks"
CREATE INDEX "webhook_organization_id" ON "webhooks" ("organization_id");

-- +goose Down
-- reverse: create index "webhook_organization_id" to table: "webhooks"
DROP INDEX "webhook_organization_id";
-- reverse: modify "webhooks" table
ALTER TABLE "webhooks" DROP CONSTRAINT "webhooks_organizations_webhooks", DROP COLUMN "organization_id", ALTER COLUMN "project_id" SET NOT NULL, DROP CONSTRAINT "webhook_one_owner";
