/**
 * The Postgres StartupMessage as Neon's proxy treats it: the proxy reads the client's startup
 * parameters and does not pass the session settings on, so `statement_timeout` & co. sent there
 * never take effect (docs/configuration.md "Local stack"). Pure: bytes in, bytes out.
 */

/** The startup parameters Neon's proxy drops (the server default applies instead). */
export const NEON_DROPPED_PARAMS: readonly string[] = ['statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout', 'options'];

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
/** Postgres refuses a longer startup packet (MAX_STARTUP_PACKET_LENGTH). */
const MAX_STARTUP_LENGTH = 10_000;

export type StartupParams = { protocol: number; params: Array<[string, string]> };

/** The protocol version and name/value pairs of one complete StartupMessage; undefined if malformed. */
export function parseStartup(packet: Buffer): StartupParams | undefined {
  if (packet.length < 9 || packet.readInt32BE(0) !== packet.length) return undefined;
  const params: Array<[string, string]> = [];
  let at = 8;
  const cstring = (): string | undefined => {
    const end = packet.indexOf(0, at);
    if (end < 0) return undefined;
    const s = packet.toString('utf8', at, end);
    at = end + 1;
    return s;
  };
  for (;;) {
    const name = cstring();
    if (name === undefined) return undefined;
    if (name === '') return at === packet.length ? { protocol: packet.readInt32BE(4), params } : undefined;
    const value = cstring();
    if (value === undefined) return undefined;
    params.push([name, value]);
  }
}

/** A StartupMessage carrying `s`. */
export function encodeStartup(s: StartupParams): Buffer {
  const body = Buffer.concat(s.params.flatMap(([k, v]) => [Buffer.from(`${k}\0`), Buffer.from(`${v}\0`)]));
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length + 1, 0);
  head.writeInt32BE(s.protocol, 4);
  return Buffer.concat([head, body, Buffer.from([0])]);
}

/** `packet` without the parameters in `drop`, and the names it dropped; a malformed packet passes unchanged. */
export function dropStartupParams(packet: Buffer, drop: ReadonlySet<string>): { packet: Buffer; dropped: string[] } {
  const s = parseStartup(packet);
  if (!s) return { packet, dropped: [] };
  const dropped = s.params.filter(([k]) => drop.has(k)).map(([k]) => k);
  if (!dropped.length) return { packet, dropped };
  return { packet: encodeStartup({ protocol: s.protocol, params: s.params.filter(([k]) => !drop.has(k)) }), dropped };
}

/** Client bytes of one connection, in order, with the StartupMessage rewritten. */
export type StartupFilter = {
  /** The bytes to forward for `chunk` (possibly none yet: a startup packet split over chunks is held). */
  push(chunk: Buffer): Buffer;
  /** Parameter names dropped so far. */
  dropped(): readonly string[];
  /** The `database` the startup asked for, once seen. */
  database(): string | undefined;
};

/**
 * Rewrites the first StartupMessage of a client stream. SSLRequest / GSSENCRequest packets before
 * it pass unchanged; anything that is not a plausible packet (TLS after an accepted SSLRequest, a
 * CancelRequest) switches to pass-through. The startup's pipelined followers (password, query) and
 * everything after pass unchanged.
 */
export function createStartupFilter(drop: ReadonlySet<string>): StartupFilter {
  let head: Buffer | undefined = Buffer.alloc(0);
  let dropped: string[] = [];
  let database: string | undefined;
  return {
    dropped: () => dropped,
    database: () => database,
    push(chunk) {
      if (!head) return chunk;
      head = Buffer.concat([head, chunk]);
      const out: Buffer[] = [];
      while (head && head.length >= 8) {
        const length = head.readInt32BE(0);
        const code = head.readInt32BE(4);
        if (length < 8 || length > MAX_STARTUP_LENGTH) {
          out.push(head);
          head = undefined;
          break;
        }
        if (head.length < length) break;
        const packet = head.subarray(0, length);
        const rest = head.subarray(length);
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
          out.push(packet);
          head = rest;
          continue;
        }
        // Protocol 3.x: a StartupMessage. Anything else (CancelRequest) passes as is.
        const rewritten = code >> 16 === 3 ? dropStartupParams(packet, drop) : { packet, dropped: [] };
        database = parseStartup(packet)?.params.find(([k]) => k === 'database')?.[1];
        dropped = rewritten.dropped;
        out.push(rewritten.packet, rest);
        head = undefined;
      }
      return Buffer.concat(out);
    },
  };
}
