/**
 * Runs one bounded load in a separate process (bench/load-runner.ts) and returns its report.
 * The orchestrator only waits, so its samplers do not steal time from the load generator's loop.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadResult, LoadSpec } from './load-spec.js';
import { startChild } from './processes.js';
import { ROOT } from './workerd.js';

const MAX_CONNECTIONS = 1024;

/** Runs `spec` to completion (duration + drain), bounded by a hard timeout. */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  if (spec.connections < 1 || spec.connections > MAX_CONNECTIONS) throw new Error(`connections must be 1..${MAX_CONNECTIONS}`);
  const dir = mkdtempSync(join(tmpdir(), 'bench-load-'));
  const specPath = join(dir, 'spec.json');
  const resultPath = join(dir, 'result.json');
  writeFileSync(specPath, JSON.stringify(spec));
  const child = startChild('load', process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'load-runner.ts'), specPath, resultPath], { cwd: ROOT });
  const hardTimeout = setTimeout(() => void child.stop(1000), spec.durationMs + spec.drainCapMs + 30_000);
  try {
    const exit = await child.exited;
    if (exit.code !== 0) throw new Error(`load generator exited with ${exit.signal ?? exit.code}\n${child.tail()}`);
    return JSON.parse(readFileSync(resultPath, 'utf8')) as LoadResult;
  } finally {
    clearTimeout(hardTimeout);
    rmSync(dir, { recursive: true, force: true });
  }
}
