CREATE TABLE "budget_alerts" (
	"budget_id" text NOT NULL,
	"window_start" bigint NOT NULL,
	"threshold" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "budget_alerts_budget_id_window_start_threshold_pk" PRIMARY KEY("budget_id","window_start","threshold")
);
