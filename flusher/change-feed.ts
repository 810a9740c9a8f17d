/**
 * The fleet's change feed (docs/counters.md "Changes in the ack"): once per interval the flusher
 * reads the catalog's changes after the last epoch it holds — one query per flusher, however many
 * isolates post — and keeps the latest ones in memory, so each batch ack tells the posting isolate
 * the changes it has not seen. Holding the window is pure (`createChangeWindow`); the poller is thin I/O.
 */
import type pg from 'pg';
import { changesFor, changesSince, MAX_CHANGES, parseChangeRead, type Change, type ChangeRead, type Changes } from '../drizzle/changes.js';

/** Changes kept in memory: an isolate further behind is told to drop all its caches. */
const RETAINED = 4 * MAX_CHANGES;

export type ChangeWindow = {
  /** Takes a read of the changes after `from` (the window's `through`, or a first read's start), made at `readAt`. */
  take(read: ChangeRead, from: number, readAt: number): void;
  /** What an isolate at `since` (undefined: none yet) is told at `now`; undefined before the first read. */
  answer(since: number | undefined, now: number): Changes | undefined;
  /** The epoch the next read starts after, and when the last read was made (undefined before the first). */
  position(): { through: number; readAt: number } | undefined;
};

export function createChangeWindow(): ChangeWindow {
  let held: { from: number; through: number; items: Change[]; readAt: number } | undefined;
  return {
    take(read, from, readAt) {
      const fresh = read.items.filter((c) => c.epoch > from);
      // A read that stops short of its `through` (more than it lists) or does not follow on leaves a gap: restart at `through`.
      const reaches = fresh.length === read.through - from;
      const follows = held !== undefined && held.through === from;
      if (!reaches) held = { from: read.through, through: read.through, items: [], readAt };
      else if (!follows || !held) held = { from, through: read.through, items: fresh, readAt };
      else {
        const items = [...held.items, ...fresh];
        const dropped = Math.max(0, items.length - RETAINED);
        held = { from: dropped > 0 ? (items[dropped - 1]?.epoch ?? held.from) : held.from, through: read.through, items: items.slice(dropped), readAt };
      }
    },
    answer(since, now) {
      if (!held) return undefined;
      return changesFor({ through: held.through, items: held.items }, held.from, since, now - held.readAt);
    },
    position() {
      return held ? { through: held.through, readAt: held.readAt } : undefined;
    },
  };
}

export type ChangeFeed = {
  answer(since: number | undefined): Changes | undefined;
  stop(): Promise<void>;
};

/**
 * Polls the change log every `intervalMs` on `pool` (the first read reaches back MAX_CHANGES changes).
 * A failed read is reported and retried next interval; answers then age, and the isolates check
 * the epoch themselves once their knowledge is older than their bound.
 */
export function startChangeFeed(opts: {
  pool: pg.Pool;
  intervalMs: number;
  now: () => number;
  onRead?: (through: number) => void;
  onError?: (event: string, err: unknown) => void;
}): ChangeFeed {
  const window = createChangeWindow();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const poll = async (): Promise<void> => {
    const readAt = opts.now();
    const from = window.position()?.through ?? Math.max(0, (await currentEpoch(opts.pool)) - MAX_CHANGES);
    const st = changesSince(from);
    const rows = (await opts.pool.query<{ feed: unknown }>(st.text, st.params)).rows;
    const read = parseChangeRead(rows[0]?.feed);
    if (!read) throw new Error('catalog change log answer not understood');
    window.take(read, from, readAt);
    opts.onRead?.(read.through);
  };
  const loop = (): void => {
    if (stopped) return;
    running = poll().catch((err: unknown) => opts.onError?.('change_feed_read_failed', err));
    void running.then(() => {
      if (!stopped) timer = setTimeout(loop, opts.intervalMs);
    });
  };
  loop();
  return {
    answer: (since) => window.answer(since, opts.now()),
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

async function currentEpoch(pool: pg.Pool): Promise<number> {
  const rows = (await pool.query<{ epoch: string | number }>('SELECT coalesce((SELECT epoch FROM catalog_epoch WHERE id = 1), 0) AS epoch')).rows;
  return Number(rows[0]?.epoch ?? 0);
}
