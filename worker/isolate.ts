/**
 * State that outlives a request: one instance per isolate (per distinct configuration, so tests
 * can run several configurations in one runtime). Everything here persists across requests, so it
 * holds only plain data and policies — never a connection, socket or promise bound to a request.
 */
import { parseSettings, type ConfigResult, type Settings } from './config.js';
import type { Bindings } from './env.js';
import { log } from './log.js';

export type Isolate = {
  settings: Settings;
  startedAt: number;
  /** Isolate-scoped singletons (budgets, caches, batcher, limiter), created on first use. */
  readonly slots: Map<string, unknown>;
};

/**
 * Declares a piece of isolate state: `const budgetsOf = isolateScoped('budgets', (iso) => …)`,
 * then `budgetsOf(c.var.isolate)` anywhere. Each module owns its state; this file owns where it lives.
 */
export function isolateScoped<T>(name: string, create: (isolate: Isolate) => T): (isolate: Isolate) => T {
  return (isolate) => {
    if (isolate.slots.has(name)) return isolate.slots.get(name) as T;
    const value = create(isolate);
    isolate.slots.set(name, value);
    return value;
  };
}

type Entry = { ok: true; isolate: Isolate } | { ok: false; variable: string; problem: string };

const byEnv = new WeakMap<object, Entry>();
const byFingerprint = new Map<string, Entry>();
const MAX_CONFIGURATIONS = 16;

function createIsolate(settings: Settings): Isolate {
  if (settings.AUTH_FAIL_MODE === 'open') {
    log('warn', 'auth_fail_mode_open', { message: 'AUTH_FAIL_MODE=open: requests are admitted when keys cannot be validated' });
  }
  return { settings, startedAt: Date.now(), slots: new Map() };
}

function build(result: ConfigResult): Entry {
  if (!result.ok) {
    log('error', 'gateway_misconfigured', { variable: result.variable, problem: result.problem });
    return result;
  }
  return { ok: true, isolate: createIsolate(result.settings) };
}

/** The isolate state for these bindings, created on first use and reused afterwards. */
export function isolateFor(env: Bindings): Entry {
  const cached = byEnv.get(env);
  if (cached) return cached;
  const fingerprint = JSON.stringify(Object.entries(env).filter(([, v]) => typeof v === 'string').sort());
  let entry = byFingerprint.get(fingerprint);
  if (!entry) {
    entry = build(parseSettings(env));
    if (byFingerprint.size >= MAX_CONFIGURATIONS) byFingerprint.delete(byFingerprint.keys().next().value as string);
    byFingerprint.set(fingerprint, entry);
  }
  byEnv.set(env, entry);
  return entry;
}
