CREATE TABLE "managed_settings" (
	"organization_id" text NOT NULL,
	"team_id" text DEFAULT '' NOT NULL,
	"settings" jsonb NOT NULL,
	"etag" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "managed_settings_organization_id_team_id_pk" PRIMARY KEY("organization_id","team_id")
);
--> statement-breakpoint
CREATE TABLE "telemetry_records" (
	"sequence" bigserial PRIMARY KEY NOT NULL,
	"organization_id" text NOT NULL,
	"principal_id" text NOT NULL,
	"key_id" text NOT NULL,
	"signal" text NOT NULL,
	"content_type" text NOT NULL,
	"body" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "managed_settings" ADD CONSTRAINT "managed_settings_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "telemetry_principal_time" ON "telemetry_records" USING btree ("organization_id","principal_id","created_at");