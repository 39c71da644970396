ALTER TABLE "provider_credentials" ADD COLUMN "default_price" jsonb;--> statement-breakpoint
ALTER TABLE "usage_events" ADD COLUMN "unpriced" boolean DEFAULT false NOT NULL;