/**
 * `npm run bench [-- --quick] [-- --only=1,2,5] [-- --out=<dir>]`: starts its own stack (embedded
 * Postgres, WebSocket proxy, flusher, the bundled worker under `workerd serve`), seeds a hot client
 * and keys, runs the scenarios (1–8, 10–13 and 15; the alternating 1/2 rounds and scaling curve with
 * 1 and 2; 11–12 against a minimal worker; 14, the database transport, only when named in --only)
 * with bounded load on 127.0.0.1, and writes
 * `<out>/<timestamp>.{json,md,svg}`. A full run also refreshes the figures in docs/performance.md.
 * `--quick` runs every scenario for a few seconds (CI keeps the harness working with it; it asserts
 * nothing about performance). Exit code 1 when a scenario could not run, never for a missed target.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { helpText, scriptArgs, switchFlag, valueFlag } from '../cli/flags.js';
import { renderChart } from './chart.js';
import { openCatalog, openProbe } from './db-probes.js';
import { checkSignatureFormat } from './flusher-batch.js';
import { installCleanup, stopAll } from './processes.js';
import { renderMarkdown, type Machine, type RunReport } from './report.js';
import { compareRuntimes, type RuntimeCheck } from './runtime-check.js';
import { profileFlusher, profileRequest, type ProfileSummary } from './profile.js';
import { gatewayScenarios, PARAMS, randomSecret, runGatewayScenario, STARVATION, workerVars, type Ctx, type Mode, type ScenarioResult } from './scenarios.js';
import { seedBench } from './seed.js';
import { runBundleAb, runRoundScenarios } from './rounds.js';
import { MANY_ISOLATE_SINKS, runManyIsolates } from './many-isolates.js';
import { flusherLevelId, flusherLevels, runFlusherScenario } from './flusher-scenario.js';
import { runForgedFloodScenario } from './forged-flood.js';
import { runDataPath } from './data-path.js';
import { runRateLimitScenario } from './rate-limit-scenario.js';
import { runHostileTextScenario } from './hostile-text-scenario.js';
import { runTransportScenario } from './transport-scenario.js';
import { runRevocationScenario } from './revocation-scenario.js';
import { BENCH_RTT_MS, CATALOG_DB, startFlusher, startStack, type Flusher, type Stack } from './stack.js';
import { evaluateTargets } from './targets.js';
import { bundleAt, bundleWorker, ROOT, type Bundle } from './workerd.js';

type Args = { mode: Mode; only: Set<number> | undefined; out: string | undefined; runtimeCheck: boolean; profile: boolean; baseline: string | undefined };

const groups = z
  .string()
  .transform((v) => v.split(',').map((g) => Number(g.trim())))
  .refine((gs) => gs.every((g) => Number.isInteger(g) && g >= 1 && g <= 15), 'a comma list of scenario groups 1 to 15');

const spec = {
  helpCommand: '--help',
  positionals: z.array(z.string()).max(0, 'takes no positional arguments'),
  flags: {
    quick: switchFlag('a few seconds per scenario (keeps the harness working; asserts nothing about performance)'),
    only: valueFlag('<groups>', 'only these scenario groups, e.g. 1,2,5 (14, the database transport, runs only when named)', groups.optional()),
    out: valueFlag('<dir>', 'where the results go (default: bench/results, or a temp dir with --quick)', z.string().optional()),
    baseline: valueFlag('<git ref>', 'also bundle the worker at this ref and compare against it (scenarios 2, 7, 15)', z.string().optional()),
    'no-runtime-check': switchFlag('skip the workerd-vs-Miniflare check (never run with --quick)'),
    profile: switchFlag('CPU profiles of scenarios 1, 2 and the flusher (the default without --quick)'),
    'no-profile': switchFlag('no CPU profiles'),
  },
};

const HELP = helpText({
  usage: 'npm run bench -- [--quick] [--only=1,2,5] [--out=<dir>] [--baseline=<git ref>] [--no-runtime-check] [--[no-]profile]',
  about: 'Starts its own stack, runs the scenarios with bounded load on 127.0.0.1 and writes <out>/<timestamp>.{json,md,svg}.',
  flags: spec.flags,
});

/** The arguments, or the exit code of a run that ends here (help printed: 0; usage error: 2). */
function readArgs(argv: string[]): Args | number {
  const a = scriptArgs(argv, spec, HELP);
  if (typeof a === 'number') return a;
  const mode: Mode = a.quick ? 'quick' : 'full';
  return {
    mode,
    only: a.only ? new Set(a.only) : undefined,
    out: a.out,
    baseline: a.baseline,
    runtimeCheck: mode === 'full' && !a.noRuntimeCheck,
    profile: mode === 'full' ? !a.noProfile : a.profile,
  };
}

const log = (line: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

function machine(before: number[]): Machine {
  let workerd = 'workerd';
  try {
    workerd = execFileSync(join(ROOT, 'node_modules', '.bin', 'workerd'), ['--version'])
      .toString()
      .trim();
  } catch {
    // Version is informational.
  }
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGb: totalmem() / 2 ** 30,
    os: `${type()} ${release()}`,
    node: process.version,
    workerd,
    loadAvgBefore: before,
    loadAvgAfter: loadavg(),
  };
}

async function main(): Promise<number> {
  const args = readArgs(process.argv.slice(2));
  if (typeof args === 'number') return args;
  const wants = (g: number) => !args.only || args.only.has(g);
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const outDir = args.out ?? (args.mode === 'full' ? join(ROOT, 'bench', 'results') : mkdtempSync(join(tmpdir(), 'bench-quick-')));
  mkdirSync(outDir, { recursive: true });
  const loadBefore = loadavg();

  let stack: Stack | undefined;
  let flusher: Flusher | undefined;
  installCleanup(async () => {
    await flusher?.stop();
    await stack?.stop();
  });

  log(`mode ${args.mode}; bundling the worker (wrangler deploy --dry-run)`);
  const bundle = await bundleWorker(mkdtempSync(join(tmpdir(), 'bench-bundle-')));
  const results: ScenarioResult[] = [];
  let runtimeCheck: RuntimeCheck | undefined;
  const profiles: ProfileSummary[] = [];
  let failures = 0;
  stack = await startStack(log);
  const probe = await openProbe(stack.adminUrl, CATALOG_DB);
  const catalog = await openCatalog(stack.catalogUrl);
  try {
    const signingSecret = randomSecret();
    const adminToken = randomSecret();
    const keySigningSecret = randomSecret();
    const seeded = await seedBench(stack.catalogUrl, STARVATION.missKeys, keySigningSecret);
    await checkSignatureFormat(signingSecret);
    flusher = await startFlusher(stack.catalogUrl, signingSecret);
    log(`flusher on ${flusher.url}`);
    const ctx: Ctx = { mode: args.mode, bundle, stack, flusher, probe, catalog, seeded, adminToken, signingSecret, keySigningSecret, log };
    // The worker as it was at --baseline, bundled once for the scenarios that compare against it.
    let baselineBundle: Promise<Bundle> | undefined;
    const baselineAt = (ref: string): Promise<Bundle> => (baselineBundle ??= bundleAt(ref, mkdtempSync(join(tmpdir(), 'bench-baseline-'))));

    if (args.runtimeCheck && wants(1)) {
      log('runtime check: bare /health under workerd serve vs Miniflare');
      runtimeCheck = await compareRuntimes(bundle, { DATABASE_URL: stack.catalogUrl }, PARAMS[args.mode].connections, PARAMS.full.runtimeCheckMs);
    }
    for (const s of gatewayScenarios(args.mode, seeded)) {
      if (!wants(s.group)) continue;
      log(`scenario ${s.id}: ${s.title} (${s.connections} connections, ${PARAMS[args.mode].durationMs} ms)`);
      const r = await runGatewayScenario(ctx, s).catch((err: unknown) => errored(s.id, s.group, s.title, err));
      report(r);
      results.push(r);
    }
    if (wants(1) && wants(2)) results.push(...(await runRoundScenarios(ctx).catch((err: unknown) => [errored('1v2', 9, 'alternating rounds', err)])));
    if (args.baseline && wants(2)) {
      const ref = args.baseline;
      log(`scenario 2-ab: this tree against ${ref} in alternating rounds`);
      const ab = await runBundleAb(ctx, await baselineAt(ref), ref).catch((err: unknown) => errored('2-ab', 9, 'this tree against a baseline', err));
      if (ab) results.push(ab);
    }
    if (wants(10)) {
      // Each sink near the database, then a region away (BENCH_RTT_MS through the distant proxy).
      for (const distant of [false, true]) {
        for (const sink of distant ? PARAMS[args.mode].distantSinks : MANY_ISOLATE_SINKS) {
          const id = `10-${sink}${distant ? `-rtt${BENCH_RTT_MS}` : ''}`;
          log(`scenario ${id}: starvation over ${PARAMS[args.mode].isolates} workerd processes`);
          const r = await runManyIsolates(ctx, sink, PARAMS[args.mode].isolates, distant).catch((err: unknown) =>
            errored(id, 10, `many isolates, ${sink}`, err),
          );
          report(r);
          results.push(r);
        }
      }
    }
    if (wants(7)) {
      const runs: [Parameters<typeof runForgedFloodScenario>[1], 'after' | 'baseline'][] = [[bundle, 'after']];
      if (args.baseline) runs.push([await baselineAt(args.baseline), 'baseline']);
      for (const [b, label] of runs) {
        log(`scenario 7 (${label}): legitimate misses under a flood of forged keys and random client names`);
        const r = await runForgedFloodScenario(ctx, b, label).catch((err: unknown) => errored(`7-${label}`, 7, 'forged flood', err));
        report(r);
        if (r.forgery)
          log(
            `  flood ${Math.round(r.forgery.floodRequestsPerSecond)} req/s, ${r.forgery.legit503} legitimate 503s, ${r.forgery.lookupsPerForgedRequest.toFixed(4)} lookups per forged request`,
          );
        results.push(r);
      }
    }
    if (wants(8)) {
      log('scenario 8: client A limited to 100/10s at ≫20× its limit, client B unlimited with key-cache misses');
      const r = await runRateLimitScenario(ctx).catch((err: unknown) => errored('8', 8, 'rate limits', err));
      report(r);
      if (r.rateLimit)
        log(
          `  A ${r.rateLimit.aAllowedPerSecond.toFixed(1)} allowed/s, ${r.rateLimit.a429} 429s; B ${r.rateLimit.b503} 503s, p99 ${r.rateLimit.bP99Ms.toFixed(1)} ms (alone: ${r.rateLimit.bAlone.b503} 503s, p99 ${r.rateLimit.bAlone.p99Ms.toFixed(1)} ms)`,
        );
      results.push(r);
    }
    if (wants(15)) {
      for (const sink of ['flusher', 'direct'] as const) {
        log(`scenario 15-${sink}: revoke a key in use by 4 isolates`);
        const r = await runRevocationScenario(ctx, sink, args.baseline ? await baselineAt(args.baseline) : undefined).catch((err: unknown) =>
          errored(`15-${sink}`, 15, 'revocation across isolates', err),
        );
        report(r);
        if (r.revocation)
          log(
            `  time to refusal ${r.revocation.timeToRefusalMs.join(', ')} ms (p100 ${r.revocation.p100Ms ?? 'never'}); catalog reads/request ${r.revocation.steady.perRequest.toFixed(4)}${r.revocation.baseline ? ` (baseline ${r.revocation.baseline.perRequest.toFixed(4)})` : ''}`,
          );
        results.push(r);
      }
    }
    if (wants(13)) {
      log('scenario 13: SQL texts at the caps, and /health while 4 clients send the slowest');
      const r = await runHostileTextScenario(ctx).catch((err: unknown) => errored('13', 13, 'hostile SQL text', err));
      report(r);
      if (r.hostileText)
        log(
          `  /health p99 ${r.hostileText.healthAlone.p99Ms} ms alone, ${r.hostileText.healthUnderLoad.p99Ms} ms beside ${r.hostileText.loadText} (${r.hostileText.p99Ratio}x)`,
        );
      results.push(r);
    }
    if (wants(11) || wants(12)) {
      const dp = await runDataPath(ctx, { fetch: wants(11), insert: wants(12), profile: args.profile }).catch((err: unknown) => ({
        results: [errored('11', 11, 'data path', err)],
        profiles: [],
      }));
      for (const r of dp.results) report(r);
      results.push(...dp.results);
      profiles.push(...dp.profiles);
    }
    if (args.only?.has(14)) {
      // Only on request: it runs scenarios 11 and 12 twice more (once per transport).
      const rs = await runTransportScenario(ctx).catch((err: unknown) => [errored('14', 14, 'database transport', err)]);
      for (const r of rs) report(r);
      results.push(...rs);
    }
    if (args.profile && wants(1) && wants(2)) {
      // Separate pass: the inspector costs throughput, so profiled runs are not the measured ones.
      for (const s of gatewayScenarios(args.mode, seeded).filter((x) => x.id === '1' || x.id === '2')) {
        log(`profiling scenario ${s.id} (V8 CPU profile over the inspector)`);
        profiles.push(await profileRequest(bundle, workerVars(ctx, s), s.request, s.connections, PARAMS[args.mode].profileMs));
      }
    }
    if (args.profile && wants(6) && flusher) {
      log('profiling the flusher (V8 CPU profile over the inspector) at 16 posters');
      profiles.push(await profileFlusher(stack.catalogUrl, signingSecret, 16, PARAMS[args.mode].profileMs));
    }
    if (wants(6)) {
      for (const level of flusherLevels(args.mode)) {
        log(
          `scenario 6: flusher ingest at ${level.connections} concurrent posters, ${level.clients} clients, ${level.replicas} replica(s), fillfactor ${level.fillfactor}`,
        );
        const r = await runFlusherScenario(ctx, level).catch((err: unknown) =>
          errored(flusherLevelId(level), 6, `flusher ingest, ${level.connections} posters`, err),
        );
        report(r);
        results.push(r);
      }
    }
  } finally {
    await probe.end().catch(() => undefined);
    await catalog.end().catch(() => undefined);
    await stopAll();
    await flusher?.stop().catch(() => undefined);
    await stack.stop();
    // The generated workerd configs hold this run's secrets.
    rmSync(bundle.dir, { recursive: true, force: true });
  }
  for (const r of results) if (r.skipped) failures++;

  const caveats: string[] = [];
  if (loadBefore[0] !== undefined && loadBefore[0] > 0.5) {
    caveats.push(
      `The machine was not idle: 1-minute load average ${loadBefore[0].toFixed(2)} before the run (other work was running concurrently); treat the figures as lower bounds.`,
    );
  }
  if (args.mode === 'quick') caveats.push('Quick mode: a few seconds per scenario; figures are for keeping the harness working, not for comparison.');
  const run: RunReport = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    mode: args.mode,
    machine: machine(loadBefore),
    caveats,
    runtime: { used: 'workerd serve', ...(runtimeCheck ? { check: runtimeCheck } : {}) },
    profiles,
    scenarios: results,
    targets: evaluateTargets(results),
  };
  const chartName = `${stamp}.svg`;
  writeFileSync(join(outDir, `${stamp}.json`), `${JSON.stringify(run, null, 1)}\n`);
  writeFileSync(join(outDir, chartName), renderChart(results, `gateway bench ${run.startedAt} (${run.mode}, ${run.machine.cores} cores)`));
  const markdown = renderMarkdown(run, chartName);
  writeFileSync(join(outDir, `${stamp}.md`), markdown);
  if (args.mode === 'full' && !args.only && !args.out) updatePerformanceDoc(run, stamp);
  process.stdout.write(`${markdown}\nresults: ${join(outDir, stamp)}.{json,md,svg}\n`);
  return failures === 0 ? 0 : 1;
}

function errored(id: string, group: number, title: string, err: unknown): ScenarioResult {
  log(`scenario ${id} failed: ${err instanceof Error ? err.message : String(err)}`);
  return {
    id,
    group,
    title,
    request: '',
    connections: 0,
    durationMs: 0,
    vars: {},
    skipped: `error: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
  };
}

function report(r: ScenarioResult): void {
  if (r.skipped) {
    log(`  skipped: ${r.skipped}`);
    return;
  }
  const l = r.load;
  if (!l) return;
  const extra = r.flusher
    ? `, ${r.flusher.deltasPerSecond} deltas/s`
    : r.counters
      ? `, counters ${r.counters.exact ? 'exact' : 'MISMATCH'} ${r.counters.db.requests}/${r.counters.expectedRequests}`
      : '';
  log(
    `  ${Math.round(l.requestsPerSecond)} req/s, p50 ${l.latencyMs.p50} p95 ${l.latencyMs.p95} p99 ${l.latencyMs.p99} ms, statuses ${JSON.stringify(l.byStatus)}${extra}`,
  );
}

const BEGIN = '<!-- bench:latest:begin -->';
const END = '<!-- bench:latest:end -->';

/** Replaces the generated block of docs/performance.md with this run's summary. */
function updatePerformanceDoc(run: RunReport, stamp: string): void {
  const path = join(ROOT, 'docs', 'performance.md');
  if (!existsSync(path)) return;
  const doc = readFileSync(path, 'utf8');
  const i = doc.indexOf(BEGIN);
  const j = doc.indexOf(END);
  if (i < 0 || j < i) return;
  const body = renderMarkdown(run, `../bench/results/${stamp}.svg`).replace(/^# .*\n/, `Latest full run: \`bench/results/${stamp}.json\`.\n`);
  writeFileSync(path, `${doc.slice(0, i + BEGIN.length)}\n${body}\n${doc.slice(j)}`);
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    await stopAll().catch(() => undefined);
    process.exit(1);
  },
);
