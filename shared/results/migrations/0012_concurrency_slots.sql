CREATE TABLE "concurrency_slots" (
	"key" text NOT NULL,
	"slot" integer NOT NULL,
	"holder" text NOT NULL,
	"lease_until" timestamp with time zone NOT NULL,
	CONSTRAINT "concurrency_slots_key_slot_pk" PRIMARY KEY("key","slot")
);
--> statement-breakpoint
ALTER TABLE "task_policies" ADD COLUMN "concurrency_limit" integer;--> statement-breakpoint
CREATE INDEX "concurrency_slots_holder_idx" ON "concurrency_slots" USING btree ("holder");--> statement-breakpoint
ALTER TABLE "task_policies" ADD CONSTRAINT "task_policies_concurrency_limit_check" CHECK ("task_policies"."concurrency_limit" between 0 and 1000);