CREATE TABLE "catalog_changes" (
	"epoch" bigint PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"client_name" text,
	"key_id" uuid,
	"changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "catalog_changes_kind_check" CHECK ("catalog_changes"."kind" IN ('key', 'client', 'all'))
);
--> statement-breakpoint
CREATE TABLE "catalog_epoch" (
	"id" integer PRIMARY KEY NOT NULL,
	"epoch" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "catalog_epoch_single_row" CHECK ("catalog_epoch"."id" = 1)
);
--> statement-breakpoint
CREATE INDEX "catalog_changes_changed_at_idx" ON "catalog_changes" USING btree ("changed_at");--> statement-breakpoint
INSERT INTO "catalog_epoch" ("id", "epoch") VALUES (1, 0) ON CONFLICT DO NOTHING;
--> statement-breakpoint
-- Records a change of what auth caches (docs/auth.md "The revocation bound"), whoever writes: the CLI or
-- an operator's SQL. The epoch row's lock orders concurrent writers, so epochs commit in order. The
-- function runs as its owner: writing a key or client needs no right on the change tables. The log
-- keeps the last 10,000 changes; an isolate further behind drops all its caches instead.
CREATE FUNCTION "record_catalog_change"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  e bigint;
BEGIN
  IF TG_LEVEL = 'STATEMENT' THEN
    INSERT INTO catalog_epoch AS c (id, epoch) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET epoch = c.epoch + 1 RETURNING epoch INTO e;
    INSERT INTO catalog_changes (epoch, kind) VALUES (e, 'all');
  ELSIF TG_TABLE_NAME = 'api_keys' THEN
    INSERT INTO catalog_epoch AS c (id, epoch) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET epoch = c.epoch + 1 RETURNING epoch INTO e;
    INSERT INTO catalog_changes (epoch, kind, client_name, key_id) VALUES (e, 'key', OLD.client_name, OLD.id);
  ELSE
    INSERT INTO catalog_epoch AS c (id, epoch) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET epoch = c.epoch + 1 RETURNING epoch INTO e;
    INSERT INTO catalog_changes (epoch, kind, client_name) VALUES (e, 'client', OLD.client_name);
    IF TG_OP = 'UPDATE' AND NEW.client_name IS DISTINCT FROM OLD.client_name THEN
      -- A renamed client: the new name may be cached as unknown.
      INSERT INTO catalog_epoch AS c (id, epoch) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET epoch = c.epoch + 1 RETURNING epoch INTO e;
      INSERT INTO catalog_changes (epoch, kind, client_name) VALUES (e, 'client', NEW.client_name);
    END IF;
  END IF;
  DELETE FROM catalog_changes WHERE epoch <= e - 10000;
  RETURN NULL;
END $$;
--> statement-breakpoint
-- Only the columns auth reads: the flushes' last_used_at and updated_at writes record nothing.
CREATE TRIGGER "api_keys_changed" AFTER UPDATE ON "api_keys" FOR EACH ROW
  WHEN ((OLD.client_name, OLD.prefix, OLD.key_hash, OLD.scopes, OLD.expires_at, OLD.revoked_at, OLD.rate_limit_requests, OLD.rate_limit_period_s)
    IS DISTINCT FROM (NEW.client_name, NEW.prefix, NEW.key_hash, NEW.scopes, NEW.expires_at, NEW.revoked_at, NEW.rate_limit_requests, NEW.rate_limit_period_s))
  EXECUTE FUNCTION "record_catalog_change"();
--> statement-breakpoint
CREATE TRIGGER "api_keys_deleted" AFTER DELETE ON "api_keys" FOR EACH ROW EXECUTE FUNCTION "record_catalog_change"();
--> statement-breakpoint
CREATE TRIGGER "api_keys_truncated" AFTER TRUNCATE ON "api_keys" FOR EACH STATEMENT EXECUTE FUNCTION "record_catalog_change"();
--> statement-breakpoint
CREATE TRIGGER "clients_changed" AFTER UPDATE ON "clients" FOR EACH ROW
  WHEN ((OLD.client_name, OLD.database_url, OLD.is_active, OLD.is_frozen, OLD.api_key_enforcement, OLD.rate_limit_requests, OLD.rate_limit_period_s)
    IS DISTINCT FROM (NEW.client_name, NEW.database_url, NEW.is_active, NEW.is_frozen, NEW.api_key_enforcement, NEW.rate_limit_requests, NEW.rate_limit_period_s))
  EXECUTE FUNCTION "record_catalog_change"();
--> statement-breakpoint
CREATE TRIGGER "clients_deleted" AFTER DELETE ON "clients" FOR EACH ROW EXECUTE FUNCTION "record_catalog_change"();
--> statement-breakpoint
CREATE TRIGGER "clients_truncated" AFTER TRUNCATE ON "clients" FOR EACH STATEMENT EXECUTE FUNCTION "record_catalog_change"();
