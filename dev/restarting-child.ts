/**
 * A stack child that is started again when it crashes (the flusher), as its restart policy allows,
 * each restart printed. Looks like one GroupChild to the stack: `stop()` stops whichever run is
 * current, and no restart is scheduled once the stack is stopping.
 */
import type { Exit, GroupChild } from './process-group.js';
import { sleep } from './process-group.js';
import type { RestartPolicy } from './restart-policy.js';
import type { Started } from './stack-children.js';

export type RestartingOptions = {
  /** Starts one run; `restart` is 0 for the first, then 1, 2, … */
  start(restart: number): Started;
  policy: RestartPolicy;
  maxRestarts: number;
  /** False until the stack is up: a child that dies while starting fails the start instead. */
  armed(): boolean;
  stopping(): boolean;
  say(line: string): void;
  /** Resolves once a restarted run serves again (its health check). */
  ready(child: GroupChild): Promise<void>;
  /** No (more) restarts: the stack stops. */
  giveUp(exit: Exit, logFile: string, restarts: number): void;
  rel(path: string): string;
};

const describeExit = (exit: Exit) => exit.signal ?? `code ${exit.code}`;

export function restartingChild(o: RestartingOptions): GroupChild {
  let current = o.start(0);
  o.policy.started(Date.now());
  const watch = (run: Started) =>
    void run.child.exited.then(async (exit) => {
      if (o.stopping() || run !== current) return;
      const decision = o.armed() ? o.policy.exited(Date.now()) : { restart: false as const, restarts: 0 };
      if (!decision.restart) return o.giveUp(exit, run.logFile, decision.restarts);
      const which = `restart ${decision.attempt} of ${o.maxRestarts}`;
      o.say(
        `${run.child.name} exited unexpectedly (${describeExit(exit)}); restarting it in ${(decision.delayMs / 1000).toFixed(1)}s (${which}); its output is in ${o.rel(run.logFile)}`,
      );
      await sleep(decision.delayMs);
      if (o.stopping()) return;
      current = o.start(decision.attempt);
      o.policy.started(Date.now());
      watch(current);
      try {
        await o.ready(current.child);
        o.say(`${current.child.name} is back (${which})`);
      } catch (err) {
        o.say(`${current.child.name} did not come back: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
  watch(current);
  return {
    name: current.child.name,
    get pid() {
      return current.child.pid;
    },
    get proc() {
      return current.child.proc;
    },
    get exited() {
      return current.child.exited;
    },
    exit: () => current.child.exit(),
    tail: () => current.child.tail(),
    stop: (graceMs) => current.child.stop(graceMs),
  };
}
