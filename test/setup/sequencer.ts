/**
 * The order `npm test` starts its files in: integration first (its served-worker files mostly wait:
 * on TTLs, idle proxies, other processes; and their timing-sensitive cases run before the machine
 * is busiest), then the worker project (each slot that frees up keeps its workerd for the next
 * worker file), then worker-http (its runners start while the last worker files run), then unit
 * (seconds, fills the slots the last worker-http files leave). Within a project, vitest's own
 * order: files that failed last time, then the longest by the last run's durations, or the largest
 * when there is no previous run (a fresh clone). vitest's default sorts projects by name, which put
 * the worker project, the longest, after the unit files.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const PROJECT_ORDER = ['integration', 'worker', 'worker-http', 'unit'];

const rank = (spec: TestSpecification): number => {
  const i = PROJECT_ORDER.indexOf(spec.project.name);
  return i < 0 ? PROJECT_ORDER.length : i;
};

export class ProjectOrderSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const within = await super.sort(files);
    const position = new Map(within.map((spec, i) => [spec, i]));
    return [...within].sort((a, b) => rank(a) - rank(b) || (position.get(a) ?? 0) - (position.get(b) ?? 0));
  }
}
