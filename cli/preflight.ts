/**
 * `npm run preflight -- --env production [--secrets-file .prod.env] [--config wrangler.toml] [--no-bundle]`
 *
 * Checks a deployment before it happens, offline: wrangler reads the config for that environment
 * (as `wrangler deploy` would), `wrangler deploy --dry-run` bundles it into a temp dir, and
 * preflight-checks.ts judges the result. Prints one line per finding and a summary; exits 1 when
 * any finding is an error, 2 on a usage error, 0 otherwise.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs, parseEnv } from 'node:util';
import { gzipSync } from 'node:zlib';
import { formatFinding, preflightFindings, type Finding, type PreflightInput } from './preflight-checks.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WRANGLER = join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
const USAGE = 'usage: npm run preflight -- --env <name> [--secrets-file <dotenv>] [--config <wrangler.toml>] [--no-bundle]';

type Args = { env: string | undefined; config: string; secretsFile: string | undefined; bundle: boolean };

function readArgs(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { env: { type: 'string', short: 'e' }, config: { type: 'string', short: 'c' }, 'secrets-file': { type: 'string' }, 'no-bundle': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  return { env: values.env, config: resolve(values.config ?? join(ROOT, 'wrangler.toml')), secretsFile: values['secrets-file'], bundle: !values['no-bundle'] };
}

/** Bundles with `wrangler deploy --dry-run` (no network, no upload) and measures the entry module. */
async function bundleSize(args: Args): Promise<NonNullable<PreflightInput['bundle']>> {
  const outdir = await mkdtemp(join(tmpdir(), 'preflight-'));
  try {
    const envArgs = args.env ? ['--env', args.env] : [];
    const result = await new Promise<{ code: number; output: string }>((done) => {
      execFile(process.execPath, [WRANGLER, 'deploy', '--dry-run', '--config', args.config, ...envArgs, '--outdir', outdir], { cwd: ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: 'false' }, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
        done({ code: err ? 1 : 0, output: `${stdout}\n${stderr}` }),
      );
    });
    if (result.code !== 0) {
      const reason = result.output.split('\n').find((l) => /ERROR|✘/.test(l))?.trim() ?? 'wrangler exited with an error';
      return { failed: reason.slice(0, 300) };
    }
    const entry = join(outdir, 'index.js');
    const raw = await readFile(entry);
    return { rawBytes: (await stat(entry)).size, gzipBytes: gzipSync(raw).length, startupCpuMs: await startupCpuMs(entry) };
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}

/**
 * CPU time a fresh Node process spends loading and evaluating the bundle: V8 parses and runs the
 * same top-level code workerd does at isolate start, so it approximates the startup cost offline.
 * Undefined when the bundle cannot be evaluated outside workerd.
 */
async function startupCpuMs(entry: string): Promise<number | undefined> {
  const script = `const c = process.cpuUsage(); await import(${JSON.stringify(pathToFileURL(entry).href)}); const u = process.cpuUsage(c); console.log((u.user + u.system) / 1000);`;
  return new Promise((done) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 }, (err, stdout) => {
      const ms = Number(stdout.trim().split('\n').pop());
      done(err || !Number.isFinite(ms) ? undefined : ms);
    });
  });
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = readArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 2;
  }
  // Loaded only now: wrangler takes seconds to import, and a usage error should not wait for it.
  const { unstable_readConfig } = await import('wrangler');
  const config = unstable_readConfig({ config: args.config, ...(args.env ? { env: args.env } : {}) }, { hideWarnings: true });
  if (args.env && config.name === undefined) {
    console.error(`error: wrangler config has no worker name for --env ${args.env}`);
    return 2;
  }
  const secrets = args.secretsFile ? parseEnv(await readFile(args.secretsFile, 'utf8')) : undefined;
  const bundle = args.bundle ? await bundleSize(args) : undefined;
  const findings = preflightFindings({
    env: args.env,
    vars: config.vars,
    secrets: secrets as Record<string, string> | undefined,
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags,
    bundle,
    today: new Date().toISOString().slice(0, 10),
  });
  for (const f of findings) console.log(formatFinding(f));
  const count = (level: Finding['level']) => findings.filter((f) => f.level === level).length;
  const errors = count('error');
  console.log(`preflight ${args.env ?? '(top level)'}: ${errors} error(s), ${count('warn')} warning(s) — ${errors ? 'do not deploy' : 'ok to deploy'}`);
  return errors ? 1 : 0;
}

process.exitCode = await main();
