/**
 * docs/deploy.md says each wrangler command it prints was checked against `npx wrangler <command>
 * --help`: this keeps that true. Every `wrangler …` in its code (fenced blocks and inline spans) is
 * asked of the installed wrangler, offline: the command exists (its help names it) and every flag
 * the doc passes is one the help lists.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/run-entry.js';

const WRANGLER = join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js');

type DocCommand = { words: string[]; flags: string[]; text: string };

/** The code of a markdown text: fenced blocks line by line, inline spans joined onto one line. */
function codeOf(markdown: string): string[] {
  const out: string[] = [];
  const prose = markdown.replace(/^```[^\n]*\n([\s\S]*?)^```$/gm, (_, block: string) => {
    out.push(...block.split('\n').map((line) => line.replace(/\s#\s.*$/, '')));
    return '';
  });
  for (const m of prose.matchAll(/`([^`]+)`/g)) out.push((m[1] ?? '').replace(/\s+/g, ' '));
  return out;
}

/** Each `wrangler <command words> [positionals] [--flags]` in the doc's code. */
function wranglerCommands(markdown: string): DocCommand[] {
  const found: DocCommand[] = [];
  for (const line of codeOf(markdown)) {
    for (const m of line.matchAll(/\bwrangler ((?:[a-z][a-z-]* ?)+)([^|;&`]*)/g)) {
      const words = (m[1] ?? '').trim().split(' ');
      const flags = [...(m[2] ?? '').matchAll(/(?:^|\s)(--?[a-z][a-z-]*)/g)].map((f) => f[1] ?? '');
      found.push({ words, flags, text: m[0].trim() });
    }
  }
  return found;
}

/** `wrangler <words> --help`'s text; empty when wrangler refuses the command (the test then names it). */
function help(words: string[]): Promise<string> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [WRANGLER, ...words, '--help'],
      { cwd: ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: 'false' }, timeout: 120_000 },
      (err, stdout) => done(err ? '' : stdout),
    );
  });
}

let commands: DocCommand[] = [];
const helps = new Map<string, string>();
beforeAll(async () => {
  commands = wranglerCommands(await readFile(join(ROOT, 'docs', 'deploy.md'), 'utf8'));
  // One wrangler start per distinct command, two at a time (a start is seconds of one core's CPU).
  const keys = [...new Set(commands.map((c) => c.words.join(' ')))];
  const next = async (): Promise<void> => {
    for (let key = keys.shift(); key !== undefined; key = keys.shift()) helps.set(key, await help(key.split(' ')));
  };
  await Promise.all([next(), next()]);
}, 600_000);

describe('docs/deploy.md wrangler commands', () => {
  it('finds the commands of a first deploy, rotation and rollback', () => {
    expect([...helps.keys()]).toEqual(
      expect.arrayContaining(['login', 'deploy', 'secret put', 'secret bulk', 'secret list', 'tail', 'deployments list', 'versions list', 'rollback']),
    );
  });

  it('every command exists and every flag it is given is one its --help lists', () => {
    const problems: string[] = [];
    for (const c of commands) {
      const text = (helps.get(c.words.join(' ')) ?? '').trimStart();
      if (!text.startsWith(`wrangler ${c.words.join(' ')}`)) problems.push(`${c.text}: no such command`);
      for (const flag of c.flags) if (!new RegExp(`(^|[\\s,])${flag}(?=[\\s,]|$)`, 'm').test(text)) problems.push(`${c.text}: ${flag} is not in its --help`);
    }
    expect(problems).toEqual([]);
  });
});
