/**
 * The order `npm test` starts its files in: integration first (its served-worker files mostly wait:
 * on TTLs, idle proxies, other processes; and their timing-sensitive cases run before the machine
 * is busiest), then the worker project (each slot that frees up keeps its workerd for the next
 * worker file), then worker-http (its runners start while the last worker files run), then unit
 * (seconds, fills the slots the last worker-http files leave). Within a project: files that failed
 * last time, then the longest first, by vitest's record of the last run or, on a fresh clone (no
 * record yet), by test/setup/file-durations.json (refreshed by write-file-durations.ts), so that
 * a first run is not ordered by file size (15 s slower on 2 cores). vitest's default sorts projects
 * by name, which put the worker project, the longest, after the unit files.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const PROJECT_ORDER = ['integration', 'worker', 'worker-http', 'unit'];

const rank = (spec: TestSpecification): number => {
  const i = PROJECT_ORDER.indexOf(spec.project.name);
  return i < 0 ? PROJECT_ORDER.length : i;
};

const recorded = JSON.parse(readFileSync(new URL('./file-durations.json', import.meta.url), 'utf8')) as Record<string, number>;

export class ProjectOrderSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const weights = new Map(
      files.map((spec) => {
        const key = `${spec.project.name}:${relative(this.ctx.config.root, spec.moduleId)}`;
        const last = this.ctx.cache.getFileTestResults(key);
        return [spec, { failed: last?.failed ? 1 : 0, ms: last?.duration ?? recorded[key] ?? 0 }] as const;
      }),
    );
    const w = (spec: TestSpecification) => weights.get(spec) ?? { failed: 0, ms: 0 };
    return [...files].sort((a, b) => rank(a) - rank(b) || w(b).failed - w(a).failed || w(b).ms - w(a).ms);
  }
}
