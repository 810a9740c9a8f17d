CREATE SCHEMA "athena_gateway";
--> statement-breakpoint
CREATE TABLE "athena_gateway"."catalog_marker" (
	"id" integer PRIMARY KEY NOT NULL
);
