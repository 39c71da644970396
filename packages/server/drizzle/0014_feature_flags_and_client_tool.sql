ALTER TABLE "organizations" ADD COLUMN "feature_flags" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_events" ADD COLUMN "client_tool" text;