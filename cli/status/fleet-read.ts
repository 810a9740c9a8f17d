/**
 * Where `status --fleet` reads the fleet: the flusher's `GET /fleet` when a flusher is configured
 * (--flusher-url, FLUSHER_URL, or the dev stack's), else the catalog's `isolate_snapshots` table
 * (the `direct` sink's), whose rows are turned into the same view here. `--from` forces either.
 */
import { redactUrl } from '../../catalog/redact.js';
import { sql } from 'drizzle-orm';
import { SNAPSHOT_EXPIRY_MS } from '../../drizzle/fleet-sql.js';
import { isolateSnapshotSchema, type IsolateSnapshot } from '../../drizzle/fleet-snapshot.js';
import { fleetView, type FleetView } from '../../drizzle/fleet-view.js';
import type { IsolatePair } from '../../drizzle/fleet-window.js';
import { isolateSnapshots } from '../../drizzle/schema.js';
import type { CatalogDb } from '../../catalog/open.js';
import { CliError, UsageError } from '../errors.js';
import { readStackFile } from '../../dev-state/files.js';

export type FleetSource = { kind: 'flusher'; url: string } | { kind: 'catalog' };

const TIMEOUT_MS = 3000;

/** The source the flags, the environment and the dev stack name. */
export function fleetSource(
  flags: { from?: 'flusher' | 'catalog' | undefined; flusherUrl?: string | undefined },
  env: NodeJS.ProcessEnv,
  cwd: string,
): FleetSource {
  if (flags.from === 'catalog') return { kind: 'catalog' };
  const raw = flags.flusherUrl ?? (env.FLUSHER_URL?.trim() || undefined) ?? readStackFile(env, cwd)?.flusherUrl ?? undefined;
  if (!raw) {
    if (flags.from === 'flusher') throw new UsageError('--from flusher: no flusher configured (pass --flusher-url or set FLUSHER_URL)', 'status --help');
    return { kind: 'catalog' };
  }
  // FLUSHER_URL may list replicas: each keeps the isolates that sent to it, the first is read.
  const first = raw.split(',')[0]?.trim() ?? '';
  if (!/^https?:\/\/[^\s]+$/.test(first))
    throw new UsageError(`${flags.flusherUrl !== undefined ? '--flusher-url' : 'FLUSHER_URL'}: must be an http(s) URL`, 'status --help');
  return { kind: 'flusher', url: first.replace(/\/+$/, '') };
}

/** How the source is named on screen and in JSON. */
export const sourceLabel = (s: FleetSource): string => (s.kind === 'flusher' ? `flusher ${redactUrl(s.url).replace(/\/$/, '')}` : 'catalog isolate_snapshots');

/** The flusher's own view. */
export async function readFleetFromFlusher(url: string): Promise<FleetView> {
  let res: Response;
  try {
    res = await fetch(`${url}/fleet`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    const why = err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${TIMEOUT_MS / 1000}s` : 'connection failed';
    throw new CliError(`flusher ${redactUrl(url)} is unreachable (${why}): is it running? (check --flusher-url / FLUSHER_URL, or --from catalog)`);
  }
  const text = await res.text().catch(() => '');
  if (res.status === 404) throw new CliError(`flusher ${redactUrl(url)} has no /fleet (a flusher older than this CLI?); try --from catalog`);
  if (!res.ok) throw new CliError(`flusher ${redactUrl(url)} answered HTTP ${res.status} to /fleet`);
  try {
    const view = JSON.parse(text) as FleetView;
    if (Array.isArray(view.isolates) && typeof view.totals === 'object') return view;
  } catch {
    // fall through
  }
  throw new CliError(`${redactUrl(url)}/fleet is not a fleet view (is --flusher-url the flusher?)`);
}

type Row = { snapshot: unknown; previous: unknown };

const parsed = (v: unknown): IsolateSnapshot | null => {
  const r = isolateSnapshotSchema.safeParse(v);
  return r.success ? r.data : null;
};

/** The view of the live `isolate_snapshots` rows (rows that do not parse are left out). */
function viewOfRows(rows: readonly Row[], now: number): FleetView {
  const pairs: IsolatePair[] = [];
  for (const r of rows) {
    const latest = parsed(r.snapshot);
    if (latest) pairs.push({ latest, previous: r.previous === null ? null : parsed(r.previous) });
  }
  return fleetView(pairs, now);
}

export async function readFleetFromCatalog(db: CatalogDb, now: () => number = Date.now): Promise<FleetView> {
  const rows = await db
    .select({ snapshot: isolateSnapshots.snapshot, previous: isolateSnapshots.previous })
    .from(isolateSnapshots)
    .where(sql`${isolateSnapshots.updatedAt} >= now() - make_interval(secs => ${SNAPSHOT_EXPIRY_MS / 1000})`);
  return viewOfRows(rows, now());
}
