ALTER TABLE "routing_policies" ADD COLUMN "allowed_models" jsonb;--> statement-breakpoint
ALTER TABLE "routing_policies" ADD COLUMN "denied_models" jsonb DEFAULT '[]'::jsonb NOT NULL;