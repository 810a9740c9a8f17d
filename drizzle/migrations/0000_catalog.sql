CREATE TABLE "admission_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"request_id" text,
	"target" text NOT NULL,
	"purpose" text NOT NULL,
	"waited_ms" integer NOT NULL,
	"in_use" integer NOT NULL,
	"waiting" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "api_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"client_name" text NOT NULL,
	"name" text NOT NULL,
	"prefix" text NOT NULL,
	"key_hash" text NOT NULL,
	"scopes" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"last_used_at" timestamp with time zone,
	CONSTRAINT "api_keys_prefix_unique" UNIQUE("prefix"),
	CONSTRAINT "api_keys_key_hash_unique" UNIQUE("key_hash"),
	CONSTRAINT "api_keys_key_hash_check" CHECK ("api_keys"."key_hash" ~ '^[0-9a-f]{64}$')
);
--> statement-breakpoint
CREATE TABLE "auth_attempt_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"request_id" text NOT NULL,
	"client_name" text,
	"key_prefix" text,
	"reason" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "client_statistics" (
	"client_name" text PRIMARY KEY NOT NULL,
	"requests" bigint DEFAULT 0 NOT NULL,
	"errors" bigint DEFAULT 0 NOT NULL,
	"last_seen" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "client_table_statistics" (
	"client_name" text NOT NULL,
	"table_name" text NOT NULL,
	"operation" text NOT NULL,
	"requests" bigint DEFAULT 0 NOT NULL,
	"errors" bigint DEFAULT 0 NOT NULL,
	"duration_ms" bigint DEFAULT 0 NOT NULL,
	"last_seen" timestamp with time zone,
	CONSTRAINT "client_table_statistics_pk" PRIMARY KEY("client_name","table_name","operation"),
	CONSTRAINT "client_table_statistics_operation_check" CHECK ("client_table_statistics"."operation" IN ('read', 'insert', 'update', 'delete'))
);
--> statement-breakpoint
CREATE TABLE "clients" (
	"client_name" text PRIMARY KEY NOT NULL,
	"database_url" text,
	"is_active" boolean DEFAULT true NOT NULL,
	"is_frozen" boolean DEFAULT false NOT NULL,
	"api_key_enforcement" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "clients_api_key_enforcement_check" CHECK ("clients"."api_key_enforcement" IS NULL OR "clients"."api_key_enforcement" IN ('required', 'optional')),
	CONSTRAINT "clients_client_name_check" CHECK ("clients"."client_name" ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$')
);
--> statement-breakpoint
CREATE TABLE "flush_batches" (
	"batch_id" uuid PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"rows" integer DEFAULT 0 NOT NULL,
	"applied_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "gateway_request_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"request_id" text NOT NULL,
	"client_name" text,
	"key_prefix" text,
	"method" text NOT NULL,
	"path" text NOT NULL,
	"table_name" text,
	"operation" text,
	"status" integer NOT NULL,
	"error_code" text,
	"duration_ms" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_client_name_clients_client_name_fk" FOREIGN KEY ("client_name") REFERENCES "public"."clients"("client_name") ON DELETE cascade ON UPDATE cascade;--> statement-breakpoint
CREATE INDEX "admission_events_created_at_idx" ON "admission_events" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "api_keys_client_name_idx" ON "api_keys" USING btree ("client_name");--> statement-breakpoint
CREATE INDEX "auth_attempt_log_created_at_idx" ON "auth_attempt_log" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "flush_batches_applied_at_idx" ON "flush_batches" USING btree ("applied_at");--> statement-breakpoint
CREATE INDEX "gateway_request_log_created_at_idx" ON "gateway_request_log" USING btree ("created_at");