/**
 * The local proxy's StartupMessage rewrite: Neon's dropped parameters go, everything else (other
 * parameters, SSL/GSSENC requests, the pipelined password and query, TLS bytes) passes unchanged,
 * whatever the chunking.
 */
import { describe, expect, it } from 'vitest';
import { createStartupFilter, dropStartupParams, encodeStartup, NEON_DROPPED_PARAMS, parseStartup } from '../../dev/startup-packet.js';

const PROTOCOL_3 = 196608;
const drop = new Set(NEON_DROPPED_PARAMS);
const startup = (params: Array<[string, string]>) => encodeStartup({ protocol: PROTOCOL_3, params });
const driverStartup = startup([
  ['user', 'app'],
  ['database', 'catalog'],
  ['statement_timeout', '1000'],
  ['lock_timeout', '1000'],
  ['idle_in_transaction_session_timeout', '5000'],
  ['options', '-c work_mem=64MB'],
  ['application_name', 'gateway'],
]);
const kept: Array<[string, string]> = [
  ['user', 'app'],
  ['database', 'catalog'],
  ['application_name', 'gateway'],
];
/** PasswordMessage then a simple Query: what the driver pipelines behind the startup. */
const followers = Buffer.concat([Buffer.from([0x70, 0, 0, 0, 9]), Buffer.from('secr\0'), Buffer.from([0x51, 0, 0, 0, 13]), Buffer.from('SELECT 1\0')]);
const request = (code: number) => {
  const b = Buffer.alloc(8);
  b.writeInt32BE(8, 0);
  b.writeInt32BE(code, 4);
  return b;
};

describe('startup packet', () => {
  it('round-trips through encode and parse', () => {
    expect(parseStartup(driverStartup)?.params).toHaveLength(7);
    expect(parseStartup(startup(kept))).toEqual({ protocol: PROTOCOL_3, params: kept });
  });

  it('refuses a truncated or mislabelled packet', () => {
    expect(parseStartup(driverStartup.subarray(0, driverStartup.length - 1))).toBeUndefined();
    const unterminated = Buffer.from(driverStartup);
    unterminated.writeInt32BE(unterminated.length, 0);
    unterminated[unterminated.length - 1] = 0x41;
    expect(parseStartup(unterminated)).toBeUndefined();
  });

  it('drops the parameters Neon drops and names them', () => {
    const r = dropStartupParams(driverStartup, drop);
    expect(r.dropped).toEqual(['statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout', 'options']);
    expect(parseStartup(r.packet)).toEqual({ protocol: PROTOCOL_3, params: kept });
  });

  it('leaves a packet without them as it was', () => {
    const p = startup(kept);
    expect(dropStartupParams(p, drop)).toEqual({ packet: p, dropped: [] });
    expect(dropStartupParams(driverStartup, new Set()).packet).toEqual(driverStartup);
  });
});

describe('startup filter over a stream', () => {
  const run = (chunks: Buffer[]) => {
    const f = createStartupFilter(drop);
    return { out: Buffer.concat(chunks.map((c) => f.push(c))), dropped: f.dropped() };
  };
  const expected = Buffer.concat([startup(kept), followers]);

  it('rewrites a startup pipelined with password and query in one chunk, and names its database', () => {
    expect(run([Buffer.concat([driverStartup, followers])])).toEqual({ out: expected, dropped: [...NEON_DROPPED_PARAMS] });
    const f = createStartupFilter(drop);
    expect(f.database()).toBeUndefined();
    f.push(driverStartup);
    expect(f.database()).toBe('catalog');
  });

  it('rewrites it whatever the chunking, one byte at a time included', () => {
    const all = Buffer.concat([driverStartup, followers]);
    const bytes = [...all].map((b) => Buffer.from([b]));
    expect(run(bytes).out).toEqual(expected);
    expect(run([all.subarray(0, 3), all.subarray(3, 20), all.subarray(20)]).out).toEqual(expected);
  });

  it('holds nothing back after the startup', () => {
    const f = createStartupFilter(drop);
    f.push(driverStartup);
    expect(f.push(followers)).toEqual(followers);
  });

  it('passes an SSLRequest or GSSENCRequest and rewrites the startup after it', () => {
    for (const code of [80877103, 80877104]) {
      const f = createStartupFilter(drop);
      expect(f.push(request(code))).toEqual(request(code));
      expect(f.push(driverStartup)).toEqual(startup(kept));
    }
  });

  it('passes TLS bytes (an accepted SSLRequest) and a CancelRequest unchanged', () => {
    const f = createStartupFilter(drop);
    f.push(request(80877103));
    const clientHello = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc]);
    expect(f.push(clientHello)).toEqual(clientHello);
    expect(f.push(driverStartup)).toEqual(driverStartup);
    const cancel = Buffer.concat([request(80877102), Buffer.from([0, 0, 0, 1, 0, 0, 0, 2])]);
    cancel.writeInt32BE(16, 0);
    expect(run([cancel]).out).toEqual(cancel);
  });
});
