/**
 * docs/deploy.md against the files it describes: the `.prod.env` example carries every secret
 * `[env.production] secrets.required` lists (a missing one fails the first deploy, and a missing
 * KEY_SIGNING_SECRETS turns forged-key refusal off), no install runs as root, and the flusher's
 * systemd unit runs the Node 22 that `npm ci` puts in the checkout, not the host's.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/run-entry.js';

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const doc = read('docs/deploy.md');
const toml = read('wrangler.toml');

describe('docs/deploy.md', () => {
  it('its .prod.env example holds every secret [env.production] secrets.required lists, KEY_SIGNING_SECRETS among them', () => {
    const required = /^\[env\.production\.secrets\]\s*\nrequired = \[([^\]]*)\]/m.exec(toml)?.[1];
    expect(required).toBeDefined();
    const names = [...(required ?? '').matchAll(/"([A-Z_]+)"/g)].map((m) => m[1]);
    expect(names).toContain('KEY_SIGNING_SECRETS');
    const example = /cat > \.prod\.env <<'EOF'\n([\s\S]*?)\nEOF/.exec(doc)?.[1] ?? '';
    const written = example.split('\n').map((line) => line.slice(0, line.indexOf('=')));
    expect(written).toEqual(expect.arrayContaining(names));
    // The doc quotes the same list it asks for.
    expect(doc).toContain(`required = [${required}]`);
  });

  it('never runs npm as root: every npm on the flusher host runs as the service user', () => {
    const rootNpm = doc.split('\n').filter((line) => /\bsudo (?!-u athena )[^|;&]*\bnpm\b/.test(line));
    expect(rootNpm).toEqual([]);
    expect(doc).toContain('sudo -u athena npm ci');
  });

  it("the flusher unit runs the checkout's node_modules/.bin/node (Node 22 from npm ci) in its WorkingDirectory", () => {
    const unit = read('flusher/deploy/athena-flusher@.service');
    const dir = /^WorkingDirectory=(.+)$/m.exec(unit)?.[1];
    expect(dir).toBeDefined();
    expect(unit).toMatch(new RegExp(`^ExecStart=${dir}/node_modules/\\.bin/node --import tsx flusher/index\\.ts$`, 'm'));
    expect(unit).toMatch(/^User=athena$/m);
    const pkg = JSON.parse(read('package.json')) as { devDependencies: Record<string, string> };
    expect(pkg.devDependencies.node).toMatch(/^\^22\./);
  });
});
