-- The counter tables are a few hot rows updated by every flush. Half of each page left free lets an
-- update stay on its page (a HOT update: no index write, no new page), which keeps the tables from
-- bloating and makes a group commit's upserts about 2.6× faster (docs/performance.md "Flusher: where a group commit's time goes").
-- New pages use it at once; existing pages follow as autovacuum frees them (VACUUM FULL to rewrite now).
ALTER TABLE "client_statistics" SET (fillfactor = 50);
--> statement-breakpoint
ALTER TABLE "client_table_statistics" SET (fillfactor = 50);
