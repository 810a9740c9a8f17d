/**
 * One reading of the gateway: the worker's status document and the flusher's metrics. Each
 * failure becomes one line an operator can act on (unreachable, wrong token, not a gateway).
 */
import { redactUrl } from '../../catalog/redact.js';
import { statusDocument, type StatusDocument } from './document.js';
import type { Endpoints } from './endpoints.js';
import { parsePrometheus, type Sample } from './prometheus.js';

/** A reading: `raw` is the status JSON as served; the flusher part is null when there is none. */
export type Reading = {
  at: number;
  raw: unknown;
  status: StatusDocument;
  flusher: { ok: true; samples: Sample[] } | { ok: false; problem: string } | null;
};

/** Why a reading failed; `fatal` problems (wrong token, not a gateway) do not heal by waiting. */
export class ReadError extends Error {
  constructor(
    message: string,
    readonly fatal: boolean,
  ) {
    super(message);
    this.name = 'ReadError';
  }
}

const TIMEOUT_MS = 3000;

function unreachable(what: string, url: string, err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  const code = cause && typeof cause === 'object' && 'code' in cause ? String(cause.code) : undefined;
  const why =
    err instanceof Error && err.name === 'TimeoutError'
      ? `no answer within ${TIMEOUT_MS / 1000}s`
      : (code ?? (cause instanceof Error ? cause.message : 'connection failed'));
  return `${what} ${redactUrl(url)} is unreachable (${why})`;
}

async function readWorker(e: Endpoints): Promise<{ raw: unknown; status: StatusDocument }> {
  let res: Response;
  try {
    res = await fetch(`${e.workerUrl}/__gateway/status`, { headers: { authorization: `Bearer ${e.token}` }, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    throw new ReadError(`${unreachable('worker', e.workerUrl, err)}: is it running? (npm run dev, or check --url / GATEWAY_URL)`, false);
  }
  const text = await res.text().catch(() => '');
  if (res.status === 401) throw new ReadError(`worker ${redactUrl(e.workerUrl)} refused the admin token (401): check --token / ADMIN_TOKEN`, true);
  if (!res.ok) throw new ReadError(`worker ${redactUrl(e.workerUrl)} answered HTTP ${res.status} to /__gateway/status`, res.status < 500);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    raw = undefined;
  }
  const parsed = statusDocument.safeParse(raw);
  if (!parsed.success) throw new ReadError(`${redactUrl(e.workerUrl)} did not answer with a gateway status document (is --url the gateway worker?)`, true);
  return { raw, status: parsed.data };
}

async function readFlusher(url: string): Promise<Reading['flusher']> {
  try {
    const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    const text = await res.text();
    if (!res.ok) return { ok: false, problem: `flusher ${redactUrl(url)} answered HTTP ${res.status} to /metrics` };
    const samples = parsePrometheus(text);
    if (!samples.some((s) => s.name.startsWith('flusher_')))
      return { ok: false, problem: `${redactUrl(url)}/metrics has no flusher metrics (is --flusher-url the flusher?)` };
    return { ok: true, samples };
  } catch (err) {
    return { ok: false, problem: `${unreachable('flusher', url, err)}: is it running? (check --flusher-url / FLUSHER_URL)` };
  }
}

/** Reads both sources at once. Throws ReadError when the worker cannot be read. */
export async function readGateway(e: Endpoints, now: () => number = Date.now): Promise<Reading> {
  const [worker, flusher] = await Promise.all([readWorker(e), e.flusherUrl ? readFlusher(e.flusherUrl) : Promise.resolve(null)]);
  return { at: now(), ...worker, flusher };
}
