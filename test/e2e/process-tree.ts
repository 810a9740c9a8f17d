/**
 * Linux process-tree snapshots from /proc, to prove a stopped stack left nothing behind: record
 * every descendant while it runs, then check none of those exact processes (pid + start time) lives.
 */
import { readdirSync, readFileSync } from 'node:fs';

export type Proc = { pid: number; ppid: number; start: string; state: string; cmd: string };

function read(pid: number): Proc | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    return { pid, ppid: Number(rest[1]), state: rest[0] ?? '?', start: rest[19] ?? '', cmd };
  } catch {
    return undefined;
  }
}

/** Every live process below `root` (not including it). */
export function descendants(root: number): Proc[] {
  const all = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => read(Number(d)))
    .filter((p): p is Proc => p !== undefined);
  const out: Proc[] = [];
  const frontier = [root];
  while (frontier.length > 0) {
    const parent = frontier.pop();
    for (const p of all) {
      if (p.ppid === parent) {
        out.push(p);
        frontier.push(p.pid);
      }
    }
  }
  return out;
}

/** The same process (pid and start time) still exists and is not a zombie. */
export function stillAlive(p: Proc): boolean {
  const now = read(p.pid);
  return now !== undefined && now.start === p.start && now.state !== 'Z';
}
