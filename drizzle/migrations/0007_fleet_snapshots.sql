CREATE TABLE "isolate_snapshots" (
	"isolate_id" text PRIMARY KEY NOT NULL,
	"snapshot" jsonb NOT NULL,
	"previous" jsonb,
	"taken_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "isolate_snapshots_updated_at_idx" ON "isolate_snapshots" USING btree ("updated_at");