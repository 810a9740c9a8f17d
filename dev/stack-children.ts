/**
 * The two long-running children of `npm run dev`: the flusher and `wrangler dev`. Each runs in its
 * own process group with its output in `.dev/logs/<name>.log`, echoed to the console once the
 * stack is ready.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { startGroupChild, type Exit, type GroupChild } from './process-group.js';

export type ChildContext = {
  root: string;
  logDir: string;
  env: NodeJS.ProcessEnv;
  /** True once the ready line is out: from then on child output is echoed to the console. */
  echo(): boolean;
};

export type Started = { child: GroupChild; logFile: string };

/** The children's context: the caller's environment, offline by default (no usage metrics, no download of the `Request.cf` sample object). */
export function childContext(root: string, logDir: string, echo: () => boolean): ChildContext {
  const env = {
    ...process.env,
    WRANGLER_SEND_METRICS: process.env.WRANGLER_SEND_METRICS ?? 'false',
    CLOUDFLARE_CF_FETCH_ENABLED: process.env.CLOUDFLARE_CF_FETCH_ENABLED ?? 'false',
  };
  return { root, logDir, env, echo };
}

/** `node --import tsx flusher/index.ts` on 127.0.0.1:`port` against the catalog. */
export function spawnFlusher(ctx: ChildContext, o: { databaseUrl: string; signingSecret: string; port: number; append?: boolean }): Started {
  const logFile = join(ctx.logDir, 'flusher.log');
  const child = startGroupChild('flusher', process.execPath, ['--import', 'tsx', 'flusher/index.ts'], {
    cwd: ctx.root,
    env: { ...ctx.env, DATABASE_URL: o.databaseUrl, FLUSH_SIGNING_SECRET: o.signingSecret, FLUSHER_PORT: String(o.port), FLUSHER_HOST: '127.0.0.1' },
    logFile,
    append: o.append,
    onLine: (line) => {
      if (ctx.echo()) console.log(`[flusher] ${line}`);
    },
  });
  return { child, logFile };
}

/**
 * `wrangler dev` on 127.0.0.1:`port`, secrets from `devVarsFile`, never interactive (CI has no
 * stdin) and never reloading browsers.
 */
export function spawnWrangler(ctx: ChildContext, o: { port: number; inspectorPort: number; devVarsFile: string }): Started {
  const logFile = join(ctx.logDir, 'worker.log');
  const wranglerBin = join(createRequire(import.meta.url).resolve('wrangler/package.json'), '..', 'bin', 'wrangler.js');
  const args = [
    wranglerBin,
    'dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(o.port),
    '--inspector-port',
    String(o.inspectorPort),
    '--env-file',
    o.devVarsFile,
    '--show-interactive-dev-session=false',
    '--live-reload=false',
  ];
  const child = startGroupChild('wrangler dev', process.execPath, args, {
    cwd: ctx.root,
    env: ctx.env,
    logFile,
    onLine: (line) => {
      if (ctx.echo()) console.log(`[worker] ${workerLine(line)}`);
    },
  });
  return { child, logFile };
}

/** wrangler's own "ready" lines are reworded: the stack prints the one line that says ready. */
function workerLine(line: string): string {
  return line.replace(/Local server updated and ready/, 'local server reloaded').replace(/Ready on /, 'listening on ');
}

/** The line the stack stops with when a part died, ending with the last lines of its log (`rel` shows its path). */
export function crashReport(name: string, exit: Exit | undefined, logFile: string, rel: (path: string) => string, restarts = 0): string {
  const last = tail(logFile, 15);
  const how = exit ? ` (${exit.signal ?? `code ${exit.code}`})` : '';
  const after = restarts ? ` after ${restarts} restart${restarts > 1 ? 's' : ''}` : '';
  return `${name} exited unexpectedly${how}${after}; its output is in ${rel(logFile)}${last ? `, ending:\n${last}` : ''}`;
}

/** The last `n` lines of a log file, for the message when a child dies. */
function tail(file: string, n: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}
