CREATE TABLE "task_results" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"queue" text NOT NULL,
	"status" text NOT NULL,
	"payload" jsonb,
	"result" jsonb,
	"error" text,
	"traceback" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"attempt_base" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"date_done" timestamp with time zone,
	"runtime_ms" integer,
	CONSTRAINT "task_results_status_check" CHECK ("task_results"."status" in ('PENDING', 'STARTED', 'RETRY', 'SUCCESS', 'FAILURE', 'REVOKED'))
);
--> statement-breakpoint
CREATE INDEX "task_results_date_done_idx" ON "task_results" USING btree ("date_done");--> statement-breakpoint
CREATE INDEX "task_results_status_idx" ON "task_results" USING btree ("status");--> statement-breakpoint
CREATE INDEX "task_results_name_created_idx" ON "task_results" USING btree ("name","created_at");