/**
 * knip (configured in knip.jsonc) as a list of findings keyed like the other shape checks.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Finding } from './source-shape.js';

type KnipItem = { name: string; line?: number };
type KnipIssue = { file: string } & Record<string, KnipItem[] | string>;

/**
 * knip's findings over the project in `dir` (for this repository: tests and bench included, as
 * knip.jsonc says), one per unused file, export, type, dependency or unlisted binary:
 * `unused-<kind> <file> <name>`. knip itself is taken from `root`'s node_modules.
 */
export function unusedCode(root: string, dir = root): Finding[] {
  const knip = join(root, 'node_modules', 'knip', 'bin', 'knip.js');
  const run = spawnSync(process.execPath, [knip, '--reporter', 'json', '--no-progress'], { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 });
  let report: { issues: KnipIssue[] };
  try {
    report = JSON.parse(run.stdout) as { issues: KnipIssue[] };
  } catch {
    throw new Error(`knip did not report (exit ${run.status}): ${run.stderr.slice(0, 2000)}`);
  }
  const out: Finding[] = [];
  for (const issue of report.issues) {
    for (const [kind, items] of Object.entries(issue)) {
      if (!Array.isArray(items)) continue;
      for (const item of items) {
        const where = item.line === undefined ? '' : `line ${item.line}`;
        out.push({ key: kind === 'files' ? `unused-file ${issue.file}` : `unused-${kind} ${issue.file} ${item.name}`, detail: where });
      }
    }
  }
  return out;
}
