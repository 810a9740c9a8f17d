/**
 * What comments and string literals point the reader at: notes kept outside the repository, files
 * it does not hold, docs sections that have no heading. Findings are keyed like the other shape checks.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import ts from 'typescript';
import { lineOf, type Finding, type SourceFile } from './source-shape.js';

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
