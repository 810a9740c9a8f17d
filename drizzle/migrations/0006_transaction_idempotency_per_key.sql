-- Idempotency records become per API key and keep the response as text. Records written before
-- this cannot be tied to a key: they are dropped (they only live TRANSACTION_IDEMPOTENCY_TTL_MS).
DELETE FROM "transaction_idempotency";
--> statement-breakpoint
ALTER TABLE "transaction_idempotency" ALTER COLUMN "response" SET DATA TYPE text;--> statement-breakpoint
ALTER TABLE "transaction_idempotency" ADD COLUMN "key_id" text NOT NULL;--> statement-breakpoint
ALTER TABLE "transaction_idempotency" ADD COLUMN "attempt" uuid NOT NULL;--> statement-breakpoint
ALTER TABLE "transaction_idempotency" ADD COLUMN "tenant_xid" text;--> statement-breakpoint
ALTER TABLE "transaction_idempotency" DROP CONSTRAINT "transaction_idempotency_pk";
--> statement-breakpoint
ALTER TABLE "transaction_idempotency" ADD CONSTRAINT "transaction_idempotency_pk" PRIMARY KEY("client_name","key_id","idempotency_key");
