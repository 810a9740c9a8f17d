/**
 * `status --fleet`: every isolate's rates from the flusher's /fleet or the catalog — once, as JSON,
 * or redrawn every second (docs/operations.md "Fleet view").
 */
import type { FleetView } from '../../drizzle/fleet-view.js';
import { withCatalog, type CommandContext } from '../context.js';
import { CliError } from '../errors.js';
import { json } from '../output.js';
import { colourWanted } from './colour.js';
import { readFleetFromCatalog, readFleetFromFlusher, sourceLabel, type FleetSource } from './fleet-read.js';
import { renderFleet } from './fleet-render.js';
import { watchLoop } from './watch-loop.js';

export type FleetFlags = { watch: boolean; json: boolean };

const readFleet = (source: FleetSource, ctx: CommandContext): Promise<FleetView> =>
  source.kind === 'flusher' ? readFleetFromFlusher(source.url) : withCatalog(ctx, (db) => readFleetFromCatalog(db));

const asJson = (view: FleetView, source: FleetSource) => ({ source: sourceLabel(source), ...view });

export async function runFleet(source: FleetSource, flags: FleetFlags, ctx: CommandContext): Promise<void> {
  const colour = !flags.json && colourWanted(process.stdout.isTTY, ctx.env);
  const draw = (view: FleetView) => renderFleet(view, { colour, source: sourceLabel(source), width: 80 });
  const view = await readFleet(source, ctx); // a source that is not there at all: say so and exit 1
  if (!flags.watch) {
    ctx.print(flags.json ? json(asJson(view, source)) : draw(view).join('\n'));
    return;
  }
  await watchLoop({
    json: flags.json,
    first: view,
    read: () => readFleet(source, ctx),
    problemOf: (err) => {
      if (err instanceof CliError) return err.message;
      throw err;
    },
    frame: draw,
    jsonLine: (last, problem) => (problem ? { at: new Date().toISOString(), source: sourceLabel(source), error: problem } : asJson(last, source)),
    print: (line) => ctx.print(line),
  });
}
