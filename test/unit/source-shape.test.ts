/**
 * The product's sources keep one shape (docs/architecture.md "Source shape"): no file over 250
 * lines, no function over 60, no import cycle among worker/, flusher/, drizzle/ and crypto/ (type
 * imports included), no comment or string citing notes kept outside the repository or a file it
 * does not hold. Tests and the benchmark are not held to those; no file, export or dependency
 * anywhere goes unused (knip, configured in knip.jsonc). `npm run check:shape` runs this file alone.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { missingCitedFiles, missingSections, outsideCitations } from '../support/citations.js';
import { type Finding, importCycles, longFiles, longFunctions, readSources, sourceOf } from '../support/source-shape.js';
import { unusedCode } from '../support/unused-code.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const product = readSources(root, ['worker', 'flusher', 'drizzle', 'crypto', 'catalog', 'dev-state', 'cli', 'dev']);
const layered = product.filter((f) => /^(worker|flusher|drizzle|crypto)\//.test(f.path));
/** Tracked files and new ones not ignored: what a checkout of this tree holds. */
const repoFiles = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);

let findings: Finding[] = [];

describe('source shape', () => {
  beforeAll(() => {
    findings = [
      ...longFiles(product),
      ...longFunctions(product),
      ...importCycles(layered),
      ...outsideCitations(product),
      ...missingCitedFiles(product, repoFiles),
      ...missingSections(product, root),
      ...unusedCode(root),
    ];
  }, 120_000);

  it('has no violation', () => {
    expect(findings.map((f) => `${f.key} (${f.detail})`)).toEqual([]);
  });

  it('keeps cli/ and dev/ apart: what both use lives in catalog/, dev-state/ or crypto/', () => {
    const crossing = (from: string, to: string) =>
      product
        .filter((f) => f.path.startsWith(`${from}/`) && new RegExp(`(from |import\\()'(\\.\\./)+${to}/`).test(f.text))
        .map((f) => `${f.path} imports ${to}/`);
    expect([...crossing('cli', 'dev'), ...crossing('dev', 'cli')]).toEqual([]);
  });

  it('reads the whole product', () => {
    // Guards the walker itself: a broken path would make every other check pass on nothing.
    expect(product.some((f) => f.path === 'worker/index.ts')).toBe(true);
    expect(product.some((f) => f.path === 'flusher/index.ts')).toBe(true);
    expect(product.some((f) => f.path === 'cli/index.ts')).toBe(true);
    expect(layered.length).toBeGreaterThan(50);
  });
});

describe('the checks themselves', () => {
  const body = (n: number) => Array.from({ length: n }, (_, i) => `  const v${i} = ${i};`).join('\n');

  it('counts a function from its first line to its closing brace, of every kind', () => {
    const text = [
      `export function fits() {\n${body(58)}\n}`,
      `export const arrow = () => {\n${body(59)}\n};`,
      `class C {\n  method() {\n${body(59)}\n  }\n}`,
      `call(function () {\n${body(59)}\n});`,
    ].join('\n');
    const keys = longFunctions([sourceOf('worker/x.ts', text)]).map((f) => f.key);
    expect(keys).toEqual(['function worker/x.ts arrow', 'function worker/x.ts method', 'function worker/x.ts call(…)']);
  });

  it('counts a file of 251 lines, not one of 250 with a final newline', () => {
    const lines = (n: number) => `${Array.from({ length: n }, () => '// x').join('\n')}\n`;
    expect(longFiles([sourceOf('a.ts', lines(250)), sourceOf('b.ts', lines(251))]).map((f) => f.key)).toEqual(['file b.ts']);
  });

  it('finds a cycle closed at run time, by `import type` or by an `import()` type', () => {
    const files = [
      sourceOf('worker/db/a.ts', "import { b } from '../t/b.js';\nexport const a = b;"),
      sourceOf('worker/t/b.ts', "export { c as b } from './c.js';"),
      sourceOf('worker/t/c.ts', "import { a } from '../db/a.js';\nexport const c = () => a;"),
      sourceOf('worker/t/d.ts', "import { e } from './e.js';\nexport const d = e;"),
      sourceOf('worker/t/e.ts', "import type { d } from './d.js';\nexport const e = 1 as unknown as typeof d;"),
      sourceOf('worker/t/f.ts', "import { g } from './g.js';\nexport const f = g;"),
      sourceOf('worker/t/g.ts', "export const g = 1 as unknown as import('./f.js').F;"),
      sourceOf('worker/t/h.ts', "import type { d } from './d.js';\nexport type H = typeof d;"),
    ];
    expect(
      importCycles(files)
        .map((f) => f.key)
        .sort(),
    ).toEqual(['cycle worker/db/a.ts worker/t/b.ts worker/t/c.ts', 'cycle worker/t/d.ts worker/t/e.ts', 'cycle worker/t/f.ts worker/t/g.ts']);
  });

  it('finds citations in comments and strings, not in other code', () => {
    const cites = (text: string) => outsideCitations([sourceOf('x.ts', text)]).length;
    expect(cites('// see DESIGN §4\nexport {};')).toBe(1);
    expect(cites("export const h = 'read PROTOCOL.md';")).toBe(1);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: source text that holds a template literal
    expect(cites('export const h = `as STYLE.md says ${1}`;')).toBe(1);
    expect(cites('const x = 1; /* before the brace: PROTOCOL-SDK5.md */\n')).toBe(1);
    expect(cites('export const DESIGNER = 1; // docs/architecture.md')).toBe(0);
  });

  it('finds a cited file the repository does not hold, at its path, beside the citer or as a tail', () => {
    const repo = ['docs/auth.md', 'worker/db/with-session.ts', 'worker/admission/poll.ts'];
    const text = [
      '// docs/auth.md, poll.ts, db/with-session.ts and ../db/with-session.ts all exist;',
      "// docs/gone.md and stats/flush-route.ts do not.\nexport const hint = 'see docs/missing.md';",
    ].join('\n');
    const keys = missingCitedFiles([sourceOf('worker/admission/budget.ts', text)], repo).map((f) => f.key);
    expect(keys).toEqual([
      'cites-missing worker/admission/budget.ts docs/gone.md',
      'cites-missing worker/admission/budget.ts stats/flush-route.ts',
      'cites-missing worker/admission/budget.ts docs/missing.md',
    ]);
  });

  it('finds a cited docs section the doc has no heading for', () => {
    const text = [
      '// docs/architecture.md "The Workers rule" and docs/counters.md "The flush service" hold;',
      '// docs/architecture.md "The Workers rules" and docs/auth.md "Nothing by this name" do not.',
    ].join('\n');
    const keys = missingSections([sourceOf('worker/x.ts', text)], root).map((f) => f.key);
    expect(keys).toEqual([
      'cites-section worker/x.ts docs/architecture.md "The Workers rules"',
      'cites-section worker/x.ts docs/auth.md "Nothing by this name"',
    ]);
  });

  it('reports an unused file and an unused export through knip', () => {
    const dir = mkdtempSync(join(tmpdir(), 'knip-fixture-'));
    try {
      writeFileSync(join(dir, 'package.json'), '{"name":"fixture","type":"module","private":true}');
      writeFileSync(join(dir, 'knip.json'), '{"entry":["main.ts"],"project":["*.ts"]}');
      writeFileSync(join(dir, 'main.ts'), "import { used } from './lib.js';\nconsole.log(used);\n");
      writeFileSync(join(dir, 'lib.ts'), 'export const used = 1;\nexport const dead = 2;\n');
      writeFileSync(join(dir, 'orphan.ts'), 'export const x = 1;\n');
      const keys = unusedCode(root, dir)
        .map((f) => f.key)
        .sort();
      expect(keys).toEqual(['unused-exports lib.ts dead', 'unused-file orphan.ts']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
