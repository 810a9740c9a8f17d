/** `status`: the gateway's live state for an operator — once, as JSON, or redrawn every second. */
import { z } from 'zod';
import { helpText, parseCommand, switchFlag, valueFlag } from '../flags.js';
import type { Command, CommandContext } from '../context.js';
import { CliError, UsageError } from '../errors.js';
import { json } from '../output.js';
import { resolveEndpoints, type Endpoints } from '../status/endpoints.js';
import { createHistory } from '../status/history.js';
import { runFleet } from '../status/fleet-command.js';
import { fleetSource } from '../status/fleet-read.js';
import { readGateway, ReadError, type Reading } from '../status/read.js';
import { watchLoop } from '../status/watch-loop.js';
import { renderStatus } from '../status/view.js';

const spec = {
  helpCommand: 'status --help',
  positionals: z.array(z.string()).max(0, 'takes no arguments'),
  flags: {
    fleet: switchFlag('the fleet view (docs/operations.md "Fleet view"); needs no --url/--token'),
    from: valueFlag(
      '<source>',
      'with --fleet: flusher or catalog (default: flusher when one is configured)',
      z.enum(['flusher', 'catalog'], { error: 'must be flusher or catalog' }).optional(),
    ),
    watch: switchFlag('redraw every second in place, with sparklines (503s/s, mean wait); Ctrl-C stops'),
    json: switchFlag('print the raw documents as JSON (with --watch: one line per second)'),
    url: valueFlag('<url>', 'the worker (env GATEWAY_URL; default: the running npm run dev stack)', z.string().optional()),
    token: valueFlag('<token>', "its ADMIN_TOKEN (env ADMIN_TOKEN; default: the dev stack's)", z.string().optional()),
    'flusher-url': valueFlag('<url>', "the flusher (env FLUSHER_URL; default: the dev stack's, none with --url)", z.string().optional()),
  },
};

const HELP = helpText({
  usage: 'npm run gateway -- status [flags]',
  about: `Shows the worker's /__gateway/status and the flusher's /metrics as one table: per target permits
in use / size, waiters, acquire timeouts, longest wait and slow acquires; cache hit rates; refusals
by reason; the batcher; telemetry; the flusher's groups, commit p99 and rejected batches.
With --fleet: every isolate of the fleet instead of the one the request lands on — totals, then one
line per isolate with per-second rates (requests, 2xx/4xx/5xx/429/503, BUSY = permit timeouts
answered database_busy or api_key_*_busy, DOWN = database_unavailable or api_key_*_unavailable),
p50/p99 latency per route family, permits in
use/max, waiters and slow acquires per second; telemetry drops with their reason. Read from the
flusher's /fleet when a flusher is configured, else from the catalog's isolate_snapshots table.`,
  flags: spec.flags,
  notes: 'Exit 1 when the worker or the flusher cannot be read.',
});

function asJson(r: Reading, e: Endpoints) {
  const flusher =
    r.flusher === null ? null : r.flusher.ok ? { url: e.flusherUrl, samples: r.flusher.samples } : { url: e.flusherUrl, error: r.flusher.problem };
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
  const first = await readOrFail(e); // a stack that is not there at all: say so and exit 1
  history.push(first);
  await watchLoop({
    json: asJsonOutput,
    first,
    read: async () => {
      const reading = await readGateway(e);
      history.push(reading);
      return reading;
    },
    problemOf: (err) => {
      if (err instanceof ReadError && !err.fatal) return err.message;
      throw err instanceof ReadError ? new CliError(err.message) : err;
    },
    frame: (last) => renderStatus(last, { now: Date.now(), workerUrl: e.workerUrl, series: history.series }),
    jsonLine: (last, problem) => (problem ? { at: new Date().toISOString(), worker: e.workerUrl, error: problem } : asJson(last, e)),
    print: (line) => ctx.print(line),
  });
}

export const status: Command = {
  summary: 'live status of the worker and the flusher (--watch, --json); --fleet: every isolate',
  help: HELP,
  async run(argv, ctx) {
    const input = parseCommand(argv, spec);
    if (input.from !== undefined && !input.fleet) throw new UsageError('--from: only with --fleet', 'status --help');
    if (input.fleet) return runFleet(fleetSource({ from: input.from, flusherUrl: input.flusherUrl }, ctx.env, ctx.cwd), input, ctx);
    const endpoints = resolveEndpoints({ url: input.url, token: input.token, flusherUrl: input.flusherUrl }, ctx.env, ctx.cwd);
    await (input.watch ? watch(endpoints, input.json, ctx) : once(endpoints, input.json, ctx));
  },
};
