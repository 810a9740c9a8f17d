/**
 * The console's redraw loop, shared by `status --watch` and `status --fleet --watch`: draws the last
 * reading (or prints it as one JSON line), waits a second or for Ctrl-C/SIGTERM, reads again. A read
 * that fails in a way worth retrying keeps the last reading on screen with the problem above it.
 */
import { plainScreen, terminalScreen, type Screen } from './screen.js';

export type WatchLoop<T> = {
  json: boolean;
  first: T;
  read: () => Promise<T>;
  /** The line shown for a failed read, retried a second later; throws what must end the loop instead. */
  problemOf: (err: unknown) => string;
  frame: (last: T) => string[];
  jsonLine: (last: T, problem: string | undefined) => unknown;
  print: (line: string) => void;
};

export async function watchLoop<T>(w: WatchLoop<T>): Promise<void> {
  const screen: Screen = w.json
    ? { draw: () => undefined, close: () => undefined }
    : process.stdout.isTTY
      ? terminalScreen(process.stdout)
      : plainScreen(process.stdout);
  let stop: () => void = () => undefined;
  const stopped = new Promise<'stop'>((resolve) => (stop = () => resolve('stop')));
  const onSignal = () => stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let last = w.first;
  let problem: string | undefined;
  try {
    for (;;) {
      if (w.json) w.print(JSON.stringify(w.jsonLine(last, problem)));
      else screen.draw(problem ? [`!! ${problem}; showing the last reading, retrying every second`, '', ...w.frame(last)] : w.frame(last));
      const tick = new Promise<'tick'>((r) => setTimeout(() => r('tick'), 1000));
      if ((await Promise.race([tick, stopped])) === 'stop') return;
      try {
        last = await w.read();
        problem = undefined;
      } catch (err) {
        problem = w.problemOf(err);
      }
    }
  } finally {
    screen.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
