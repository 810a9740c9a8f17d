/**
 * Stop the stack when whatever launched it goes away. `kill <pid of npm run dev>` reaches npm,
 * which forwards it to its `sh -c`, which dies without passing it on; the orchestrator below is then
 * orphaned and would keep Postgres and wrangler running. Watching the ancestor chain catches that.
 */
import { readFileSync } from 'node:fs';

type Ancestor = { pid: number; start: string };

/** `[ppid, starttime]` from /proc/<pid>/stat (Linux), or undefined when the process is gone. */
function procStat(pid: number): { ppid: number; start: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces and parentheses: split after its closing paren.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(rest[1]), start: rest[19] ?? '' };
  } catch {
    return undefined;
  }
}

/** Up to `depth` launchers: `npm run dev` → sh → tsx → this process is three. */
function ancestors(depth: number): Ancestor[] {
  const chain: Ancestor[] = [];
  let pid = process.ppid;
  while (pid > 1 && chain.length < depth) {
    const s = procStat(pid);
    if (!s) break;
    chain.push({ pid, start: s.start });
    pid = s.ppid;
  }
  return chain;
}

/**
 * Calls `onLost` once when one of the `depth` nearest launchers (parent, grandparent, …) exits.
 * Deliberately shallow: a shell or terminal further up may come and go (nohup). Start times guard
 * against pid reuse. Without /proc only the direct parent is watched.
 */
export function watchAncestors(onLost: (pid: number) => void, opts: { depth: number; intervalMs: number }): () => void {
  const chain = ancestors(opts.depth);
  const parent = process.ppid;
  const timer = setInterval(() => {
    const gone = chain.length > 0 ? chain.find((a) => procStat(a.pid)?.start !== a.start) : process.ppid !== parent ? { pid: parent } : undefined;
    if (gone) {
      clearInterval(timer);
      onLost(gone.pid);
    }
  }, opts.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
