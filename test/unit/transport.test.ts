/** DB_TRANSPORT: a default transport and the targets that use the other one. */
import { describe, expect, it } from 'vitest';
import { parseSettings } from '../../worker/config.js';
import { parseTransport, transportFor } from '../../worker/db/transport.js';

describe('DB_TRANSPORT', () => {
  it('names the default, and targets (host:port/database) that use another transport', () => {
    const choice = parseTransport('http, pg.internal:5432/app=ws ,db.example.com:6543/neondb=http');
    expect(choice).toEqual({ default: 'http', targets: { 'pg.internal:5432/app': 'ws', 'db.example.com:6543/neondb': 'http' } });
    if ('problem' in choice) throw new Error(choice.problem);
    expect(transportFor(choice, 'pg.internal:5432/app', false)).toBe('ws');
    expect(transportFor(choice, 'other.host:5432/app', false)).toBe('http');
    expect(transportFor(choice, 'pg.internal:5432/other', false)).toBe('http');
    expect(transportFor(choice, 'db.example.com:6543/neondb', true)).toBe('ws'); // a transaction held open
    expect(transportFor(choice, 'constructor', false)).toBe('http');
  });

  it('refuses what is not a default plus host:port/database=http|ws entries, naming the entry', () => {
    expect(parseTransport('tcp')).toEqual({ problem: 'must start with http or ws' });
    expect(parseTransport('ws,pg.internal/app=http')).toEqual({ problem: '"pg.internal/app=http" is not host:port/database=http|ws' });
    expect(parseTransport('ws,pg.internal:5432/app=tcp')).toEqual({ problem: '"pg.internal:5432/app=tcp" is not host:port/database=http|ws' });
    expect(parseTransport('ws,a:1/b=http,a:1/b=ws')).toEqual({ problem: 'a:1/b is named twice' });
  });

  it('is read with the settings: unset is http everywhere; a bad value is a configuration error naming the var', () => {
    const base = { DATABASE_URL: 'postgres://u:p@db.example.com:5432/app' };
    const unset = parseSettings(base);
    expect(unset.ok && unset.settings.DB_TRANSPORT).toEqual({ default: 'http', targets: {} });
    const bad = parseSettings({ ...base, DB_TRANSPORT: 'http,nowhere=ws' });
    expect(bad.ok).toBe(false);
    expect(JSON.stringify(bad)).toContain('DB_TRANSPORT');
  });
});
