/**
 * State that outlives a request: one instance per isolate (per distinct configuration, so tests
 * can run several configurations in one runtime). Everything here persists across requests, so it
 * holds only plain data and policies — never a connection, socket or promise bound to a request.
 */
import { parseSettings, type ConfigResult, type Settings } from './config.js';
import type { Bindings } from './env.js';
import { log } from './log.js';
import { createServices, type Services } from './services.js';

export type Isolate = {
  readonly settings: Settings;
  readonly startedAt: number;
  /** Budgets, caches, counters, telemetry: created with the isolate (services.ts). */
  readonly services: Services;
};

type IsolateEntry = { ok: true; isolate: Isolate } | { ok: false; variable: string; problem: string };

const byEnv = new WeakMap<object, IsolateEntry>();
const byFingerprint = new Map<string, IsolateEntry>();
const MAX_CONFIGURATIONS = 16;

function createIsolate(settings: Settings): Isolate {
  if (settings.AUTH_FAIL_MODE === 'open') {
    log('warn', 'auth_fail_mode_open', { message: 'AUTH_FAIL_MODE=open: requests are admitted when keys cannot be validated' });
  }
  return { settings, startedAt: Date.now(), services: createServices(settings) };
}

function build(result: ConfigResult): IsolateEntry {
  if (!result.ok) {
    log('error', 'gateway_misconfigured', { variable: result.variable, problem: result.problem });
    return result;
  }
  return { ok: true, isolate: createIsolate(result.settings) };
}

/** The isolate state for these bindings, created on first use and reused afterwards. */
export function isolateFor(env: Bindings): IsolateEntry {
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
