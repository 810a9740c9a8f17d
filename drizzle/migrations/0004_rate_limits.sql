ALTER TABLE "api_keys" ADD COLUMN "rate_limit_requests" integer;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "rate_limit_period_s" integer;--> statement-breakpoint
ALTER TABLE "client_statistics" ADD COLUMN "rate_limited" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "clients" ADD COLUMN "rate_limit_requests" integer;--> statement-breakpoint
ALTER TABLE "clients" ADD COLUMN "rate_limit_period_s" integer;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_rate_limit_check" CHECK (("api_keys"."rate_limit_requests" IS NULL AND "api_keys"."rate_limit_period_s" IS NULL) OR ("api_keys"."rate_limit_requests" >= 0 AND "api_keys"."rate_limit_period_s" BETWEEN 1 AND 60));--> statement-breakpoint
ALTER TABLE "clients" ADD CONSTRAINT "clients_rate_limit_check" CHECK (("clients"."rate_limit_requests" IS NULL AND "clients"."rate_limit_period_s" IS NULL) OR ("clients"."rate_limit_requests" >= 0 AND "clients"."rate_limit_period_s" BETWEEN 1 AND 60));