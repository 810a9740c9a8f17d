/**
 * A coarse profile of where the CPU went during a scenario: user+system seconds per part of the
 * stack (workerd, flusher, Postgres, load generator, this process with the WebSocket proxy), read
 * from /proc. On 2 cores this is usually enough to say what limits a number. Dead children count
 * through their parent's `cutime`/`cstime` (Postgres backends are reaped by the postmaster).
 */
import { readdirSync, readFileSync } from 'node:fs';

export const TICKS_PER_SECOND = 100; // Linux USER_HZ

type ProcStat = { pid: number; ppid: number; comm: string; self: number; children: number };

function readStat(pid: number): ProcStat | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = raw.lastIndexOf(')');
    const comm = raw.slice(raw.indexOf('(') + 1, close);
    const f = raw.slice(close + 2).split(' ');
    // After "pid (comm) ": state ppid … utime(14) stime(15) cutime(16) cstime(17), 1-based from pid.
    const n = (i: number) => Number(f[i - 3] ?? 0);
    return { pid, ppid: n(4), comm, self: n(14) + n(15), children: n(16) + n(17) };
  } catch {
    return undefined;
  }
}

function allStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) out.push(s);
  }
  return out;
}

/** CPU ticks of each root's live subtree plus reaped children. */
function subtreeTicks(stats: ProcStat[], root: number): number {
  const kids = new Map<number, ProcStat[]>();
  for (const s of stats) {
    const list = kids.get(s.ppid) ?? [];
    list.push(s);
    kids.set(s.ppid, list);
  }
  const rootStat = stats.find((s) => s.pid === root);
  if (!rootStat) return 0;
  let total = 0;
  const stack = [rootStat];
  while (stack.length) {
    const s = stack.pop();
    if (!s) break;
    total += s.self + s.children;
    stack.push(...(kids.get(s.pid) ?? []));
  }
  return total;
}

export type CpuRoots = Record<string, number | undefined>;
export type CpuSnapshot = { at: number; ticks: Record<string, number>; self: number };
export type CpuProfile = { wallSeconds: number; cpuSeconds: Record<string, number>; cores: Record<string, number> };

/** Reads the ticks of every named root (pid), plus this process's own CPU. */
export function cpuSnapshot(roots: CpuRoots): CpuSnapshot {
  const stats = allStats();
  const ticks: Record<string, number> = {};
  for (const [name, pid] of Object.entries(roots)) if (pid !== undefined) ticks[name] = subtreeTicks(stats, pid);
  const u = process.cpuUsage();
  return { at: performance.now(), ticks, self: (u.user + u.system) / 1e6 };
}

/** Seconds of CPU per part between two snapshots, and the same as average cores busy. */
export function cpuBetween(a: CpuSnapshot, b: CpuSnapshot, selfName: string): CpuProfile {
  const wall = (b.at - a.at) / 1000;
  const cpu: Record<string, number> = {};
  for (const [name, t] of Object.entries(b.ticks)) cpu[name] = (t - (a.ticks[name] ?? 0)) / TICKS_PER_SECOND;
  cpu[selfName] = b.self - a.self;
  const round = (n: number) => Math.round(n * 100) / 100;
  const cores: Record<string, number> = {};
  for (const [k, v] of Object.entries(cpu)) {
    cpu[k] = round(v);
    cores[k] = wall > 0 ? round(v / wall) : 0;
  }
  return { wallSeconds: round(wall), cpuSeconds: cpu, cores };
}

/** The postmaster of a data directory (first line of postmaster.pid). */
export function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
