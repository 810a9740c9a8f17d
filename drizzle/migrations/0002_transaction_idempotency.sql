CREATE TABLE "transaction_idempotency" (
	"client_name" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"request_hash" text NOT NULL,
	"status" integer,
	"response" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "transaction_idempotency_pk" PRIMARY KEY("client_name","idempotency_key")
);
--> statement-breakpoint
CREATE INDEX "transaction_idempotency_created_at_idx" ON "transaction_idempotency" USING btree ("created_at");