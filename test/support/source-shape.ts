/**
 * Reads the product's sources with the TypeScript compiler API and lists where they break the shape
 * rules: file length, function length, runtime import cycles, citations of notes kept outside the
 * repository; and asks knip (knip.jsonc) for unused files, exports and dependencies. Each finding is
 * a stable key (no line counts in it) so an allow-list can name it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, resolve } from 'node:path';
import ts from 'typescript';

const MAX_FILE_LINES = 250;
const MAX_FUNCTION_LINES = 60;

export type Finding = { key: string; detail: string };

export type SourceFile = { path: string; text: string; ast: ts.SourceFile };

/** A source file from its repository-relative path and text. */
export function sourceOf(path: string, text: string): SourceFile {
  return { path, text, ast: ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true) };
}

/** Every .ts file under the given folders of `root`, as repository-relative paths with '/'. */
export function readSources(root: string, folders: readonly string[]): SourceFile[] {
  const out: SourceFile[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.ts')) {
        out.push(sourceOf(relative(root, full).split('\\').join('/'), readFileSync(full, 'utf8')));
      }
    }
  };
  for (const folder of folders) walk(join(root, folder));
  return out;
}

function lineOf(file: SourceFile, pos: number): number {
  return file.ast.getLineAndCharacterOfPosition(pos).line + 1;
}

/** Lines of the file, a final newline not counting as an extra line. */
export function longFiles(files: readonly SourceFile[]): Finding[] {
  return files.flatMap((file) => {
    const lines = file.text.replace(/\n$/, '').split('\n').length;
    return lines > MAX_FILE_LINES ? [{ key: `file ${file.path}`, detail: `${lines} lines` }] : [];
  });
}

type FunctionLike =
  | ts.FunctionDeclaration
  | ts.FunctionExpression
  | ts.ArrowFunction
  | ts.MethodDeclaration
  | ts.ConstructorDeclaration
  | ts.GetAccessorDeclaration
  | ts.SetAccessorDeclaration;

function isFunctionLike(node: ts.Node): node is FunctionLike {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isFunctionExpression(node) ||
    ts.isArrowFunction(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node)
  );
}

/** A readable name: its own, else the variable, property or call it is handed to. */
function nameOf(node: FunctionLike, file: SourceFile): string {
  if (node.name && !ts.isComputedPropertyName(node.name)) return node.name.getText(file.ast);
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) {
    return parent.name.getText(file.ast);
  }
  if (ts.isCallExpression(parent)) return `${parent.expression.getText(file.ast).slice(0, 40)}(…)`;
  return '<anonymous>';
}

/** Functions whose text (from the keyword or first parameter to the closing brace) is too long. */
export function longFunctions(files: readonly SourceFile[]): Finding[] {
  const out: Finding[] = [];
  for (const file of files) {
    const visit = (node: ts.Node): void => {
      if (isFunctionLike(node) && node.body) {
        const lines = lineOf(file, node.end) - lineOf(file, node.getStart(file.ast)) + 1;
        if (lines > MAX_FUNCTION_LINES) {
          const at = lineOf(file, node.getStart(file.ast));
          out.push({ key: `function ${file.path} ${nameOf(node, file)}`, detail: `${lines} lines at line ${at}` });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(file.ast);
  }
  return out;
}

/**
 * Relative imports and re-exports that load a module at run time. `import type` / `export type`
 * are erased by the compiler, so a cycle through them costs nothing at run time and is not counted;
 * `import { type X }` is kept as an import under verbatimModuleSyntax, so it counts.
 */
function runtimeImports(file: SourceFile, known: ReadonlySet<string>): string[] {
  const specifiers: string[] = [];
  for (const statement of file.ast.statements) {
    if (ts.isImportDeclaration(statement) && !statement.importClause?.isTypeOnly) {
      specifiers.push((statement.moduleSpecifier as ts.StringLiteral).text);
    }
    if (ts.isExportDeclaration(statement) && !statement.isTypeOnly && statement.moduleSpecifier) {
      specifiers.push((statement.moduleSpecifier as ts.StringLiteral).text);
    }
  }
  const targets = specifiers
    .filter((s) => s.startsWith('.'))
    .map((s) => relative('.', resolve(dirname(file.path), s.replace(/\.js$/, '.ts'))).split('\\').join('/'));
  return targets.filter((t) => known.has(t));
}

/** Strongly connected components of more than one file (Tarjan), each as its sorted member list. */
export function importCycles(files: readonly SourceFile[]): Finding[] {
  const known = new Set(files.map((f) => f.path));
  const edges = new Map(files.map((f) => [f.path, runtimeImports(f, known)]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: Finding[] = [];
  const connect = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v) ?? 0);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) connect(w);
      if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0, index.get(w) ?? 0));
    }
    if (low.get(v) !== index.get(v)) return;
    const members: string[] = [];
    for (let w = stack.pop(); w !== undefined; w = stack.pop()) {
      onStack.delete(w);
      members.push(w);
      if (w === v) break;
    }
    const selfLoop = (edges.get(v) ?? []).includes(v);
    if (members.length > 1 || selfLoop) {
      const sorted = members.sort();
      out.push({ key: `cycle ${sorted.join(' ')}`, detail: `${sorted.length} files import each other` });
    }
  };
  for (const file of files) if (!index.has(file.path)) connect(file.path);
  return out;
}

/** Notes the team keeps outside the repository; the product must not point at them. */
const OUTSIDE_NOTES = /\bDESIGN\b|PROTOCOL(-SDK5)?\.md|STYLE\.md|§/;

/** The comment ranges and string literal texts of a file, each with its start position. */
function commentsAndStrings(file: SourceFile): { pos: number; text: string }[] {
  const out: { pos: number; text: string }[] = [];
  const seen = new Set<number>();
  const visit = (node: ts.Node): void => {
    // Every token's trivia (a comment after code on its line is trailing, not leading), so comments
    // before a closing brace or at the end of the file count too.
    const trivia = [...(ts.getLeadingCommentRanges(file.text, node.pos) ?? []), ...(ts.getTrailingCommentRanges(file.text, node.pos) ?? [])];
    for (const range of trivia) {
      if (seen.has(range.pos)) continue;
      seen.add(range.pos);
      out.push({ pos: range.pos, text: file.text.slice(range.pos, range.end) });
    }
    if (ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node)) {
      out.push({ pos: node.getStart(file.ast), text: node.text });
    }
    for (const child of node.getChildren(file.ast)) visit(child);
  };
  visit(file.ast);
  return out;
}

/** Comments and string literals that cite a note kept outside the repository, one finding per file. */
export function outsideCitations(files: readonly SourceFile[]): Finding[] {
  const out: Finding[] = [];
  for (const file of files) {
    const lines = commentsAndStrings(file)
      .filter((piece) => OUTSIDE_NOTES.test(piece.text))
      .map((piece) => lineOf(file, piece.pos));
    if (lines.length > 0) out.push({ key: `cites ${file.path}`, detail: `line ${[...new Set(lines)].join(', ')}` });
  }
  return out;
}

/** A path-like word ending in a source, doc, config or SQL extension: `docs/auth.md`, `poll.ts`. */
const CITED_PATH = /(?<![\w./-])((?:\.{1,2}\/)?[\w.-]+(?:\/[\w.-]+)*\.(?:ts|md|toml|sql))\b/g;

/**
 * Files that comments and strings name but the repository does not hold (`repoFiles`: its paths).
 * A name counts as found at its repository path, relative to the citing file, or as the tail of a
 * path (`with-session.ts`, `db/with-session.ts`).
 */
export function missingCitedFiles(files: readonly SourceFile[], repoFiles: readonly string[]): Finding[] {
  const out: Finding[] = [];
  const exists = (from: string, cited: string): boolean => {
    const beside = normalize(join(dirname(from), cited));
    return repoFiles.some((f) => f === cited || f === beside || f.endsWith(`/${cited}`));
  };
  for (const file of files) {
    const missing = new Set<string>();
    for (const piece of commentsAndStrings(file)) {
      for (const match of piece.text.matchAll(CITED_PATH)) {
        const cited = match[1] ?? '';
        if (!exists(file.path, cited)) missing.add(cited);
      }
    }
    for (const cited of missing) out.push({ key: `cites-missing ${file.path} ${cited}`, detail: 'no such file in the repository' });
  }
  return out;
}

/** `docs/auth.md "Admission budget"`: a doc and the section a comment or string sends the reader to. */
const CITED_SECTION = /(docs\/[\w-]+\.md)\s*["“]([^"”\n]+)["”]/g;

/**
 * Sections cited as `docs/<doc>.md "<heading>"` that the doc (read from `root`) has no heading
 * for. A heading matches when it is the cited text, or starts with it and goes on after a space
 * ("The flush service" names "The flush service (`flusher/`)").
 */
export function missingSections(files: readonly SourceFile[], root: string): Finding[] {
  const headings = new Map<string, string[]>();
  const headingsOf = (doc: string): string[] => {
    let list = headings.get(doc);
    if (!list) {
      const text = existsSync(join(root, doc)) ? readFileSync(join(root, doc), 'utf8') : '';
      list = [...text.matchAll(/^#+\s+(.+?)\s*$/gm)].map((m) => m[1] ?? '');
      headings.set(doc, list);
    }
    return list;
  };
  const out: Finding[] = [];
  for (const file of files) {
    const missing = new Set<string>();
    for (const piece of commentsAndStrings(file)) {
      for (const [, doc = '', section = ''] of piece.text.matchAll(CITED_SECTION)) {
        if (!headingsOf(doc).some((h) => h === section || h.startsWith(`${section} `))) missing.add(`${doc} "${section}"`);
      }
    }
    for (const cited of missing) out.push({ key: `cites-section ${file.path} ${cited}`, detail: 'no such heading' });
  }
  return out;
}

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
