CREATE TABLE "chord_counters" (
	"group_id" text PRIMARY KEY NOT NULL,
	"size" integer NOT NULL,
	"succeeded" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "rate_limit_buckets" (
	"task" text PRIMARY KEY NOT NULL,
	"per_second" double precision NOT NULL,
	"burst" double precision NOT NULL,
	"tokens" double precision NOT NULL,
	"refilled_at" timestamp with time zone NOT NULL,
	"granted" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
ALTER TABLE "task_results" ADD COLUMN "group_id" text;--> statement-breakpoint
ALTER TABLE "task_results" ADD COLUMN "group_index" integer;--> statement-breakpoint
CREATE INDEX "task_results_group_idx" ON "task_results" USING btree ("group_id","group_index");