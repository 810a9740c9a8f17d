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
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseEnv } from 'node:util';
import { gzipSync } from 'node:zlib';
import { z } from 'zod';
import { helpText, scriptArgs, switchFlag, valueFlag } from './flags.js';
import { preflightFindings, type PreflightInput } from './preflight-checks.js';
import { formatFinding, type Finding } from './preflight-finding.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WRANGLER = join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
const spec = {
  helpCommand: '--help',
  positionals: z.array(z.string()).max(0, 'takes no positional arguments'),
  flags: {
    env: valueFlag('<name>', 'the wrangler environment to check ([env.<name>]; default: the top level)', z.string().optional(), 'e'),
    'secrets-file': valueFlag('<dotenv>', 'the secrets the deployment will have, checked by name (values are never printed)', z.string().optional()),
    config: valueFlag('<wrangler.toml>', 'the wrangler config (default: wrangler.toml at the repository root)', z.string().optional(), 'c'),
    'no-bundle': switchFlag('skip the dry-run bundle (its size and startup CPU)'),
  },
};

const HELP = helpText({
  usage: 'npm run preflight -- --env <name> [--secrets-file <dotenv>] [--config <wrangler.toml>] [--no-bundle]',
  about:
    'Checks a deployment before it happens, offline: the config for that environment as wrangler reads it,\nthe secrets, and the bundle. Exits 1 when any finding is an error, 2 on a usage error.',
  flags: spec.flags,
});

type Args = { env: string | undefined; config: string; secretsFile: string | undefined; bundle: boolean };

function readArgs(argv: string[]): Args | number {
  const a = scriptArgs(argv, spec, HELP);
  if (typeof a === 'number') return a;
  return { env: a.env, config: resolve(a.config ?? join(ROOT, 'wrangler.toml')), secretsFile: a.secretsFile, bundle: !a.noBundle };
}

/** Bundles with `wrangler deploy --dry-run` (no network, no upload) and measures the entry module. */
async function bundleSize(args: Args): Promise<NonNullable<PreflightInput['bundle']>> {
  const outdir = await mkdtemp(join(tmpdir(), 'preflight-'));
  try {
    const envArgs = args.env ? ['--env', args.env] : [];
    const result = await new Promise<{ code: number; output: string }>((done) => {
      execFile(
        process.execPath,
        [WRANGLER, 'deploy', '--dry-run', '--config', args.config, ...envArgs, '--outdir', outdir],
        { cwd: ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: 'false' }, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 },
        (err, stdout, stderr) => done({ code: err ? 1 : 0, output: `${stdout}\n${stderr}` }),
      );
    });
    if (result.code !== 0) {
      const reason =
        result.output
          .split('\n')
          .find((l) => /ERROR|✘/.test(l))
          ?.trim() ?? 'wrangler exited with an error';
      return { failed: reason.slice(0, 300) };
    }
    const entry = join(outdir, 'index.js');
    const raw = await readFile(entry);
    return { rawBytes: (await stat(entry)).size, gzipBytes: gzipSync(raw).length, startupCpuMs: await startupCpuMs(entry) };
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}

/** workerd's built-in `cloudflare:workers` for Node: the bundle imports its DurableObject base class (the rate limiter). */
const CLOUDFLARE_WORKERS_STUB = 'data:text/javascript,export class DurableObject { constructor(ctx, env) { this.ctx = ctx; this.env = env; } }';
const WORKERD_MODULES_HOOK = `data:text/javascript,${encodeURIComponent(`export async function resolve(specifier, context, next) { return specifier === 'cloudflare:workers' ? { url: ${JSON.stringify(CLOUDFLARE_WORKERS_STUB)}, shortCircuit: true } : next(specifier, context); }`)}`;

/**
 * CPU time a fresh Node process spends loading and evaluating the bundle: V8 parses and runs the
 * same top-level code workerd does at isolate start, so it approximates the startup cost offline.
 * Undefined when the bundle cannot be evaluated outside workerd.
 */
async function startupCpuMs(entry: string): Promise<number | undefined> {
  const script = `import { register } from 'node:module'; register(${JSON.stringify(WORKERD_MODULES_HOOK)}); const c = process.cpuUsage(); await import(${JSON.stringify(pathToFileURL(entry).href)}); const u = process.cpuUsage(c); console.log((u.user + u.system) / 1000);`;
  return new Promise((done) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 }, (err, stdout) => {
      const ms = Number(stdout.trim().split('\n').pop());
      done(err || !Number.isFinite(ms) ? undefined : ms);
    });
  });
}

const shown = (file: string) => relative(process.cwd(), file) || file;

/** One line for a config wrangler refuses: an unknown --env names the environments there are. */
function configProblem(err: unknown, args: Args): string {
  const message = err instanceof Error ? err.message : String(err);
  if (args.env && message.includes(`No environment found in configuration with name "${args.env}"`)) {
    const known = /available configured environment names are: \[(.*?)\]/.exec(message)?.[1]?.replaceAll('"', '') ?? '';
    return `--env ${args.env}: no [env.${args.env}] in ${shown(args.config)}${known ? ` (environments there: ${known.split(',').join(', ')})` : ''}`;
  }
  const detail = message
    .split('\n')
    .map((l) => l.trim().replace(/^- /, ''))
    .filter((l) => l && !l.startsWith('Processing'))[0];
  return `${shown(args.config)}: ${detail ?? 'wrangler could not read it'}`;
}

async function main(): Promise<number> {
  const args = readArgs(process.argv.slice(2));
  if (typeof args === 'number') return args;
  // Loaded only now: wrangler takes seconds to import, and a usage error should not wait for it.
  const { unstable_readConfig } = await import('wrangler');
  let config: ReturnType<typeof unstable_readConfig>;
  try {
    config = unstable_readConfig({ config: args.config, ...(args.env ? { env: args.env } : {}) }, { hideWarnings: true });
  } catch (err) {
    console.error(`error: ${configProblem(err, args)}`);
    return 2;
  }
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
    target: {
      name: config.name,
      topLevelName: config.topLevelName,
      requiredSecrets: config.secrets?.required,
      observability: config.observability?.enabled === true,
      workersDev: config.workers_dev,
      hasRoutes: (config.routes?.length ?? 0) > 0 || config.route !== undefined,
    },
  });
  for (const f of findings) console.log(formatFinding(f));
  const count = (level: Finding['level']) => findings.filter((f) => f.level === level).length;
  const errors = count('error');
  console.log(`preflight ${args.env ?? '(top level)'}: ${errors} error(s), ${count('warn')} warning(s) — ${errors ? 'do not deploy' : 'ok to deploy'}`);
  return errors ? 1 : 0;
}

process.exitCode = await main();
