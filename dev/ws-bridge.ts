/**
 * One proxied connection of the local Neon stand-in (dev/ws-proxy.ts): a WebSocket piped to a TCP
 * connection to Postgres, both ways, with the startup parameters Neon drops removed and each
 * message delayed as Neon's distance would, counted on the wire.
 */
import { createConnection, type Socket } from 'node:net';
import type { WebSocket, RawData } from 'ws';
import { createStartupFilter } from './startup-packet.js';
import { createLane, type Compute } from './wire-delay.js';
import { createWireCounter, type WireCounts } from './wire-count.js';

/** One proxied connection, as counted on the wire. */
export type ConnectionStats = WireCounts & {
  address: string;
  /** The database its startup named. */
  database: string | undefined;
  /** Startup parameters the proxy removed. */
  droppedParams: readonly string[];
  /** Round trips of set-up paid before the first message (0 without an RTT). */
  setupRoundTrips: number;
  /** How long its first message waited for the compute to resume. */
  resumeWaitMs: number;
};

/** What every connection of one proxy shares: parameters to drop, the one-way delay, the compute, where stats and lines go. */
export type Shaping = { drop: ReadonlySet<string>; oneWayMs: number; compute: Compute; onEnd: (stats: ConnectionStats) => void; log: (line: string) => void };

/**
 * Pipes one WebSocket to a TCP connection to `address`, both ways, each message delivered when its
 * lane says; either side closing closes both (after what was sent before it).
 */
export function bridge(ws: WebSocket, address: string, s: Shaping, setupRoundTrips: number, onClose: () => void): void {
  const openedAt = Date.now();
  const readyAt = s.compute.open(openedAt);
  const toServer = createLane(s.oneWayMs, readyAt);
  const toClient = createLane(s.oneWayMs);
  const outbound = deliveryQueue();
  const inbound = deliveryQueue();
  const filter = createStartupFilter(s.drop);
  const counter = createWireCounter();
  let tcp: Socket | undefined;
  let closed = false;

  const closeBoth = () => {
    if (closed) return;
    closed = true;
    onClose();
    s.compute.close(Date.now());
    outbound.clear();
    inbound.clear();
    if (tcp && !tcp.destroyed) tcp.end();
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close();
    s.onEnd({
      address,
      database: filter.database(),
      droppedParams: filter.dropped(),
      setupRoundTrips,
      resumeWaitMs: Math.max(0, readyAt - openedAt),
      ...counter.counts(),
    });
  };
  // Connected on the first delivery, so a resuming compute is reached only once it is up.
  const server = (): Socket => {
    if (tcp) return tcp;
    const [host, port] = splitAddress(address);
    const socket = createConnection({ host, port });
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      counter.server();
      inbound.at(toClient.due(Date.now()), () => ws.readyState === ws.OPEN && ws.send(chunk));
    });
    socket.on('close', () => inbound.at(toClient.due(Date.now()), closeBoth));
    socket.on('error', (err) => {
      s.log(`tcp error to ${address}: ${err.message}`);
      socket.destroy();
      closeBoth();
    });
    tcp = socket;
    return socket;
  };

  ws.on('message', (data: RawData) => {
    counter.client();
    const buf = filter.push(toBuffer(data));
    outbound.at(toServer.due(Date.now()), () => buf.length > 0 && server().write(buf));
  });
  ws.on('close', () => outbound.at(toServer.due(Date.now()), closeBoth));
  ws.on('error', () => closeBoth());
}

type DeliveryQueue = { at(due: number, deliver: () => unknown): void; clear(): void };

/** Runs deliveries at their due time in the order they were queued, on one timer; at once when due and nothing waits. */
function deliveryQueue(): DeliveryQueue {
  const items: Array<{ due: number; deliver: () => unknown }> = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const run = () => {
    timer = undefined;
    const now = Date.now();
    while (items[0] && items[0].due <= now) items.shift()?.deliver();
    arm();
  };
  const arm = () => {
    const next = items[0];
    if (next && !timer) timer = setTimeout(run, Math.max(0, next.due - Date.now()));
  };
  return {
    at(due, deliver) {
      if (!items.length && due <= Date.now()) deliver();
      else {
        items.push({ due, deliver });
        arm();
      }
    },
    clear() {
      items.length = 0;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}

function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i), Number(address.slice(i + 1))];
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
