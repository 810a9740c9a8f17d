/** `status`: the gateway's live state for an operator — once, as JSON, or redrawn every second. */
import { z } from 'zod';
import { parseFlags, validate } from '../args.js';
import type { Command, CommandContext } from '../context.js';
import { CliError } from '../errors.js';
import { json } from '../output.js';
import { resolveEndpoints, type Endpoints } from '../status/endpoints.js';
import { createHistory } from '../status/history.js';
import { readGateway, ReadError, type Reading } from '../status/read.js';
import { plainScreen, terminalScreen, type Screen } from '../status/screen.js';
import { renderStatus } from '../status/view.js';

const HELP = `Usage: npm run gateway -- status [flags]

Shows the worker's /__gateway/status and the flusher's /metrics as one table: per target permits
in use / size, waiters, acquire timeouts, longest wait and slow acquires; cache hit rates; refusals
by reason; the batcher; telemetry; the flusher's groups, commit p99 and rejected batches.
Flags:
  --watch                redraw every second in place, with sparklines (503s/s, mean wait); Ctrl-C stops
  --json                 print the raw documents as JSON (with --watch: one line per second)
  --url <url>            the worker (env GATEWAY_URL; default: the running npm run dev stack)
  --token <token>        its ADMIN_TOKEN (env ADMIN_TOKEN; default: the dev stack's)
  --flusher-url <url>    the flusher (env FLUSHER_URL; default: the dev stack's, none with --url)
Exit 1 when the worker or the flusher cannot be read.`;

const schema = z.object({
  positionals: z.array(z.string()).max(0, 'takes no arguments'),
  watch: z.boolean().default(false),
  json: z.boolean().default(false),
  url: z.string().optional(),
  token: z.string().optional(),
  flusherUrl: z.string().optional(),
});

const flags = {
  watch: { type: 'boolean' },
  json: { type: 'boolean' },
  url: { type: 'string' },
  token: { type: 'string' },
  'flusher-url': { type: 'string' },
} as const;

function asJson(r: Reading, e: Endpoints) {
  const flusher = r.flusher === null ? null : r.flusher.ok ? { url: e.flusherUrl, samples: r.flusher.samples } : { url: e.flusherUrl, error: r.flusher.problem };
  return { at: new Date(r.at).toISOString(), worker: e.workerUrl, status: r.raw, flusher };
}

async function once(e: Endpoints, asJsonOutput: boolean, ctx: CommandContext): Promise<void> {
  const reading = await readOrFail(e);
  ctx.print(asJsonOutput ? json(asJson(reading, e)) : renderStatus(reading, { now: Date.now(), workerUrl: e.workerUrl }).join('\n'));
  if (reading.flusher && !reading.flusher.ok) throw new CliError(reading.flusher.problem);
}

async function readOrFail(e: Endpoints): Promise<Reading> {
  try {
    return await readGateway(e);
  } catch (err) {
    if (err instanceof ReadError) throw new CliError(err.message);
    throw err;
  }
}

/** Reads and draws once a second until Ctrl-C; a worker outage is shown, a wrong token ends it. */
async function watch(e: Endpoints, asJsonOutput: boolean, ctx: CommandContext): Promise<void> {
  const history = createHistory();
  let last = await readOrFail(e); // a stack that is not there at all: say so and exit 1
  history.push(last);
  const screen: Screen = asJsonOutput ? { draw: () => undefined, close: () => undefined } : process.stdout.isTTY ? terminalScreen(process.stdout) : plainScreen(process.stdout);
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const onSignal = () => stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let problem: string | undefined;
  try {
    for (;;) {
      if (asJsonOutput) {
        ctx.print(JSON.stringify(problem ? { at: new Date().toISOString(), worker: e.workerUrl, error: problem } : asJson(last, e)));
      } else {
        const frame = renderStatus(last, { now: Date.now(), workerUrl: e.workerUrl, series: history.series });
        if (problem) frame.unshift(`!! ${problem}; showing the last reading, retrying every second`, '');
        screen.draw(frame);
      }
      const tick = new Promise<'tick'>((r) => setTimeout(() => r('tick'), 1000));
      if ((await Promise.race([tick, stopped.then(() => 'stop' as const)])) === 'stop') return;
      try {
        last = await readGateway(e);
        history.push(last);
        problem = undefined;
      } catch (err) {
        if (!(err instanceof ReadError) || err.fatal) throw err instanceof ReadError ? new CliError(err.message) : err;
        problem = err.message;
      }
    }
  } finally {
    screen.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export const status: Command = {
  summary: 'live status of the worker and the flusher (--watch, --json)',
  help: HELP,
  async run(argv, ctx) {
    const parsed = parseFlags(argv, flags, 'status --help');
    const input = validate(schema, { positionals: parsed.positionals, ...parsed.values, flusherUrl: parsed.values['flusher-url'] }, 'status --help');
    const endpoints = resolveEndpoints({ url: input.url, token: input.token, flusherUrl: input.flusherUrl }, process.env, process.cwd());
    await (input.watch ? watch(endpoints, input.json, ctx) : once(endpoints, input.json, ctx));
  },
};
