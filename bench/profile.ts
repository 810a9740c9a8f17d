/**
 * V8 CPU profiles under load, reduced to the functions with the most self time: the worker over
 * workerd's inspector (Chrome DevTools protocol), the flusher over Node's. Used by `npm run bench`
 * (full runs, or `--profile`) to say what limits a number. The report keeps only the summary; the
 * raw profiles (hundreds of kB each, for DevTools) are written only when BENCH_PROFILE_DIR names a
 * directory, so they are regenerated on request and never land in bench/results by default.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { freePort } from '../dev/ports.js';
import { runLoad } from './load.js';
import type { HttpRequestSpec, LoadResult } from './load-spec.js';
import { startFlusher } from './stack.js';
import { ROOT, startWorkerd, type Bundle } from './workerd.js';

export type CallFrame = { functionName: string; url: string; lineNumber: number };
type ProfileNode = { id: number; callFrame: CallFrame; children?: number[] };
export type CpuProfileData = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };

export type HotFunction = { name: string; selfPercent: number };
export type ProfileSummary = { request: string; load: LoadResult; sampledMs: number; top: HotFunction[]; inclusive: HotFunction[]; idlePercent: number };

class Cdp {
  private nextId = 1;
  private readonly pending = new Map<number, (result: unknown) => void>();
  constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { id?: number; result?: unknown };
      if (msg.id !== undefined) this.pending.get(msg.id)?.(msg.result);
    });
  }
  static async connect(url: string): Promise<Cdp> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new Cdp(ws);
  }
  send<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve) => {
      this.pending.set(id, (r) => resolve(r as T));
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }
  close(): void {
    this.ws.close();
  }
}

/**
 * Source file of each bundle line: esbuild marks every module with a `// path/to/file.ts` line, so
 * a bundle line maps to the nearest marker above it (no source-map dependency needed).
 */
function moduleIndex(bundleSource: string): (line: number) => string {
  const marks: { line: number; path: string }[] = [];
  bundleSource.split('\n').forEach((text, i) => {
    // Paths are relative to the bundled config's directory (`../../node_modules/…` for bench/minimal-worker).
    const m = /^\/\/ (?:\.\.\/)*((?:(?:node_modules|worker|drizzle)\/\S+|index)\.[mc]?[jt]s)$/.exec(text);
    if (m?.[1]) marks.push({ line: i, path: m[1].replace(/^node_modules\//, '') });
  });
  return (line) => {
    let lo = 0;
    let hi = marks.length - 1;
    let found = 'bundle';
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const mark = marks[mid];
      if (!mark) break;
      if (mark.line <= line) {
        found = mark.path;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
}

/**
 * Total (inclusive) time of the project's own functions (worker/, drizzle/): each sample counts once
 * for every distinct such function on its stack — where a request's time goes, not just its leaves.
 */
function inclusiveTime(profile: CpuProfileData, fileOf: (frame: CallFrame) => string, topN: number): HotFunction[] {
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map<string, number>();
  for (const id of profile.samples) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)?.callFrame;
      const file = f?.url ? fileOf(f) : '';
      if (!f || !/^(worker|drizzle)\//.test(file)) continue;
      seen.add(`${f.functionName || '(anonymous)'} (${file})`);
    }
    for (const name of seen) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  const total = Math.max(1, profile.samples.length);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, topN)
    .map(([name, n]) => ({ name, selfPercent: Math.round((n / total) * 1000) / 10 }));
}

/**
 * Writes the raw profile as `<dir>/<stamp>-<request>.cpuprofile` when BENCH_PROFILE_DIR is set
 * (DevTools and speedscope open it); without it nothing is written.
 */
function saveRaw(profile: CpuProfileData, request: string): void {
  const dir = process.env.BENCH_PROFILE_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const name = request
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  const file = join(dir, `${stamp}-${name}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  process.stderr.write(`[bench] raw profile: ${file}\n`);
}

/** Self time per function, as a share of all samples. */
function summarise(
  profile: CpuProfileData,
  fileOf: (frame: CallFrame) => string,
  topN = 15,
): { top: HotFunction[]; inclusive: HotFunction[]; idlePercent: number; sampledMs: number } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map<string, number>();
  for (const id of profile.samples) {
    const f = byId.get(id)?.callFrame;
    const file = f?.url ? fileOf(f) : '';
    const name = f ? `${f.functionName || '(anonymous)'}${file ? ` (${file})` : ''}` : 'unknown';
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  const total = Math.max(1, profile.samples.length);
  const pct = (n: number) => Math.round((n / total) * 1000) / 10;
  const idle = [...counts.entries()].filter(([k]) => k.startsWith('(idle)')).reduce((a, [, n]) => a + n, 0);
  const top = [...counts.entries()]
    .filter(([k]) => !k.startsWith('(idle)'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, topN)
    .map(([name, n]) => ({ name, selfPercent: pct(n) }));
  return { top, inclusive: inclusiveTime(profile, fileOf, topN), idlePercent: pct(idle), sampledMs: Math.round((profile.endTime - profile.startTime) / 1000) };
}

/** Runs `request` against a workerd started with the inspector and returns the profile summary. */
export async function profileRequest(
  bundle: Bundle,
  vars: Record<string, string>,
  request: HttpRequestSpec,
  connections: number,
  durationMs: number,
): Promise<ProfileSummary> {
  const inspector = await freePort();
  const w = await startWorkerd(bundle, await freePort(), vars, 'workerd-profile', ['--inspector-addr', `127.0.0.1:${inspector}`]);
  try {
    const targets = (await (await fetch(`http://127.0.0.1:${inspector}/json/list`)).json()) as { webSocketDebuggerUrl?: string }[];
    const wsUrl = targets[0]?.webSocketDebuggerUrl;
    if (!wsUrl) throw new Error('workerd inspector lists no target');
    const cdp = await Cdp.connect(wsUrl);
    try {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
      await cdp.send('Profiler.start');
      const load = await runLoad({
        baseUrl: w.url,
        connections,
        durationMs,
        request,
        tail: { method: 'GET', path: '/health' },
        drainCapMs: 3000,
        timeoutSec: 10,
      });
      const { profile } = await cdp.send<{ profile: CpuProfileData }>('Profiler.stop');
      saveRaw(profile, `${request.method} ${request.path}`);
      const fileOf = moduleIndex(readFileSync(join(bundle.dir, 'index.js'), 'utf8'));
      return { request: `${request.method} ${request.path}`, load, ...summarise(profile, (frame) => fileOf(frame.lineNumber)) };
    } finally {
      cdp.close();
    }
  } finally {
    await w.stop();
  }
}

/** The CDP WebSocket of the first target an inspector at `port` lists. */
async function inspectorTarget(port: number): Promise<string> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { webSocketDebuggerUrl?: string }[];
  const wsUrl = targets[0]?.webSocketDebuggerUrl;
  if (!wsUrl) throw new Error(`inspector on ${port} lists no target`);
  return wsUrl;
}

/**
 * The flusher under signed-batch load (a second flusher process, so the measured one runs
 * unprofiled), sampled over its inspector from the first request to the last: process startup
 * (module resolution, tsx's transform) is not in the profile, so it cannot pass for request work.
 */
export async function profileFlusher(catalogUrl: string, secret: string, connections: number, durationMs: number): Promise<ProfileSummary> {
  const inspector = await freePort();
  const flusher = await startFlusher(catalogUrl, secret, [`--inspect=127.0.0.1:${inspector}`]);
  try {
    const cdp = await Cdp.connect(await inspectorTarget(inspector));
    try {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
      await cdp.send('Profiler.start');
      const load = await runLoad({
        baseUrl: flusher.url,
        connections,
        durationMs,
        request: { method: 'POST', path: '/v1/batches' },
        flusherBatch: { secret, deltasPerBatch: 500, clients: 200 },
        tail: { method: 'GET', path: '/healthz' },
        drainCapMs: 10_000,
        timeoutSec: 10,
      });
      const { profile } = await cdp.send<{ profile: CpuProfileData }>('Profiler.stop');
      saveRaw(profile, `flusher batches ${connections} posters`);
      const fileOf = (frame: CallFrame) => {
        const path = frame.url.replace(/^file:\/\//, '');
        return path.startsWith(ROOT) ? path.slice(ROOT.length).replace(/^node_modules\//, '') : path.replace(/^node:/, 'node:');
      };
      return { request: `POST /v1/batches (flusher, ${connections} posters)`, load, ...summarise(profile, fileOf) };
    } finally {
      cdp.close();
    }
  } finally {
    await flusher.stop();
  }
}
