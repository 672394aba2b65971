CREATE TABLE "task_attempts" (
	"task_id" text NOT NULL,
	"attempt" integer NOT NULL,
	"status" text NOT NULL,
	"error" text,
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone,
	"runtime_ms" integer,
	CONSTRAINT "task_attempts_task_id_attempt_pk" PRIMARY KEY("task_id","attempt")
);
--> statement-breakpoint
ALTER TABLE "task_attempts" ADD CONSTRAINT "task_attempts_task_id_task_results_id_fk" FOREIGN KEY ("task_id") REFERENCES "task_results"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "task_results_created_idx" ON "task_results" USING btree ("created_at");