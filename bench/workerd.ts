/**
 * Runs the worker the way production runs it: the bundle `wrangler deploy --dry-run` produces,
 * served by the `workerd` binary with a generated config — not `wrangler dev`, whose proxy layers
 * cap a bare route near 750 requests/s on a 2-core machine. Vars and secrets become text
 * bindings; outbound traffic goes through a network service that allows loopback addresses so the
 * Neon driver reaches the local WebSocket proxy and the flusher on 127.0.0.1.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { readdirSync, readFileSync, writeFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { startChild, waitFor, type Child } from './processes.js';

export const ROOT = new URL('..', import.meta.url).pathname;
const BIN = join(ROOT, 'node_modules', '.bin');
const WRANGLER = join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js');

export type Bundle = { dir: string; modules: string[]; compatibilityDate: string; compatibilityFlags: string[]; defaultVars: Record<string, string> };

/**
 * Bundles worker/index.ts of `root` (default: this checkout) with wrangler (dry run, no network) into
 * `outDir`; `config` (relative to `root`) bundles another worker's wrangler.toml instead.
 */
export async function bundleWorker(outDir: string, root = ROOT, config = 'wrangler.toml'): Promise<Bundle> {
  mkdirSync(outDir, { recursive: true });
  // wrangler's script on this very Node (22): its bin's `env node` shebang may find another one.
  await promisify(execFile)(process.execPath, [WRANGLER, 'deploy', '--dry-run', '--outdir', outDir, '--config', config], {
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
  });
  const modules = readdirSync(outDir).filter((f) => /\.(m?js|wasm)$/.test(f));
  if (!modules.includes('index.js')) throw new Error(`wrangler produced no index.js in ${outDir}`);
  // index.js must come first: workerd treats the first module as the entry point.
  modules.sort((a, b) => (a === 'index.js' ? -1 : b === 'index.js' ? 1 : a.localeCompare(b)));
  return { dir: outDir, modules, ...readWranglerConfig(join(root, config)) };
}

/** Bundles the worker as it was at git `ref` (a baseline): that tree exported to `dir`, this checkout's node_modules. */
export function bundleAt(ref: string, dir: string): Promise<Bundle> {
  const src = join(dir, 'src');
  mkdirSync(src, { recursive: true });
  const tar = execFileSync('git', ['archive', '--format=tar', ref], { cwd: ROOT, maxBuffer: 256 * 1024 * 1024 });
  execFileSync('tar', ['-x', '-C', src], { input: tar });
  symlinkSync(join(ROOT, 'node_modules'), join(src, 'node_modules'));
  return bundleWorker(join(dir, 'bundle'), src);
}

/**
 * The compatibility settings and `[vars]` of a wrangler config, read by wrangler itself (as
 * preflight reads it). Loaded on first use: wrangler takes seconds to import, and modules that only
 * import this one's types and helpers should not wait for it.
 */
function readWranglerConfig(file: string): Pick<Bundle, 'compatibilityDate' | 'compatibilityFlags' | 'defaultVars'> {
  const { unstable_readConfig } = createRequire(import.meta.url)('wrangler') as typeof import('wrangler');
  const config = unstable_readConfig({ config: file }, { hideWarnings: true });
  if (!config.compatibility_date) throw new Error(`${file} has no compatibility_date`);
  const defaultVars = Object.fromEntries(Object.entries(config.vars).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  return { compatibilityDate: config.compatibility_date, compatibilityFlags: config.compatibility_flags, defaultVars };
}

/** A workerd config (capnp text) serving the bundle on 127.0.0.1:`port` with `vars` as text bindings. */
function workerdConfig(bundle: Bundle, port: number, vars: Record<string, string>): string {
  const str = (s: string) => JSON.stringify(s); // capnp text literals accept JSON's escapes for ASCII
  const modules = bundle.modules
    .map((m) => (m.endsWith('.wasm') ? `(name = ${str(m)}, wasm = embed ${str(m)})` : `(name = ${str(m)}, esModule = embed ${str(m)})`))
    .join(',\n      ');
  const texts = Object.entries({ ...bundle.defaultVars, ...vars }).map(([k, v]) => `(name = ${str(k)}, text = ${str(v)})`);
  // The rate limiter's Durable Object, when the bundle has it (a baseline bundle may not).
  const limiter = readFileSync(join(bundle.dir, 'index.js'), 'utf8').includes('RateLimiter');
  const bindings = [...texts, ...(limiter ? ['(name = "RATE_LIMITER", durableObjectNamespace = "RateLimiter")'] : [])].join(',\n      ');
  const objects = limiter
    ? `\n  durableObjectNamespaces = [ (className = "RateLimiter", uniqueKey = "bench-rate-limiter") ],\n  durableObjectStorage = (inMemory = void),`
    : '';
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "gateway", worker = .gateway),
    # Loopback allowed: the Neon driver's WebSocket proxy and the flusher listen on 127.0.0.1.
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "gateway") ],
);

const gateway :Workerd.Worker = (
  modules = [
      ${modules}
  ],
  compatibilityDate = ${str(bundle.compatibilityDate)},
  compatibilityFlags = [${bundle.compatibilityFlags.map(str).join(', ')}],
  bindings = [
      ${bindings}
  ],
  globalOutbound = "internet",${objects}
);
`;
}

export type Workerd = { url: string; child: Child; stop(): Promise<void> };

/** Starts `workerd serve` on the bundle with these vars and waits until /health answers. */
export async function startWorkerd(bundle: Bundle, port: number, vars: Record<string, string>, name = 'workerd', extraArgs: string[] = []): Promise<Workerd> {
  const configPath = join(bundle.dir, `${name}-${port}.capnp`);
  writeFileSync(configPath, workerdConfig(bundle, port, vars));
  const child = startChild(name, join(BIN, 'workerd'), ['serve', configPath, ...extraArgs], { cwd: bundle.dir });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${name} on ${url}`, async () => (await fetch(`${url}/health`)).ok, 30_000, child);
  return { url, child, stop: () => child.stop(3000) };
}
