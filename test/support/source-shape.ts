/**
 * Reads the product's sources with the TypeScript compiler API and lists where they break the shape
 * rules on size and structure: file length, function length, import cycles (type imports included). Each finding is
 * a stable key (no line counts in it) so an allow-list can name it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
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

export function lineOf(file: SourceFile, pos: number): number {
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
 * Relative imports and re-exports of every kind: `import type` and `export type` are erased at run
 * time but still tie the two modules together for a reader and for the compiler, so a cycle closed
 * only by them counts like any other. `import('./x.js')` in a type position counts too.
 */
function moduleImports(file: SourceFile, known: ReadonlySet<string>): string[] {
  const specifiers: string[] = [];
  for (const statement of file.ast.statements) {
    if (ts.isImportDeclaration(statement) || (ts.isExportDeclaration(statement) && statement.moduleSpecifier)) {
      specifiers.push((statement.moduleSpecifier as ts.StringLiteral).text);
    }
  }
  const visit = (node: ts.Node): void => {
    if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      specifiers.push(node.argument.literal.text);
    }
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      specifiers.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(file.ast);
  const targets = specifiers
    .filter((s) => s.startsWith('.'))
    .map((s) =>
      relative('.', resolve(dirname(file.path), s.replace(/\.js$/, '.ts')))
        .split('\\')
        .join('/'),
    );
  return targets.filter((t) => known.has(t));
}

/** Strongly connected components of more than one file (Tarjan), each as its sorted member list. */
export function importCycles(files: readonly SourceFile[]): Finding[] {
  const known = new Set(files.map((f) => f.path));
  const edges = new Map(files.map((f) => [f.path, moduleImports(f, known)]));
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
