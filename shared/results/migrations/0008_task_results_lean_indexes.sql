DROP INDEX "task_results_status_idx";--> statement-breakpoint
DROP INDEX "task_results_group_idx";--> statement-breakpoint
CREATE INDEX "task_results_status_created_idx" ON "task_results" USING btree ("status","created_at") WHERE "task_results"."status" in ('PENDING', 'RETRY', 'FAILURE', 'REVOKED');--> statement-breakpoint
CREATE INDEX "task_results_group_idx" ON "task_results" USING btree ("group_id","group_index") WHERE "task_results"."group_id" is not null;