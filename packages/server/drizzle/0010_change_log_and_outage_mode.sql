CREATE TABLE "change_log" (
	"sequence" bigserial PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "organizations" ADD COLUMN "storage_outage_mode" text DEFAULT 'closed' NOT NULL;--> statement-breakpoint
CREATE INDEX "change_log_time" ON "change_log" USING btree ("created_at");