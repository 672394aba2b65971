CREATE TABLE "task_keys" (
	"key" text PRIMARY KEY NOT NULL,
	"task_id" text NOT NULL,
	"sent_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
