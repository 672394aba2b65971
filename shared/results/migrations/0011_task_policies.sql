CREATE TABLE "task_policies" (
	"task" text PRIMARY KEY NOT NULL,
	"rate_limit" text,
	"soft_time_limit_seconds" double precision,
	"time_limit_seconds" double precision,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "task_policies_time_limits_check" CHECK (("task_policies"."soft_time_limit_seconds" is null and "task_policies"."time_limit_seconds" is null) or (0 < "task_policies"."soft_time_limit_seconds" and "task_policies"."soft_time_limit_seconds" < "task_policies"."time_limit_seconds"))
);
--> statement-breakpoint
ALTER TABLE "task_results" ADD COLUMN "worker" text;--> statement-breakpoint
ALTER TABLE "task_results" ADD COLUMN "lease_until" timestamp with time zone;