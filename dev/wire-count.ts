/**
 * What one proxied connection cost on the wire: client flights (a send after the server last
 * spoke, or the first) and round trips (flights the server answered). A pipelined startup,
 * password and query is one flight; the Terminate is a flight with no answer. Pure.
 */

export type WireCounts = {
  clientMessages: number;
  serverChunks: number;
  flights: number;
  /** Flights the server answered: what the client waited for, set-up not included. */
  roundTrips: number;
};

export type WireCounter = { client(): void; server(): void; counts(): WireCounts };

export function createWireCounter(): WireCounter {
  const c: WireCounts = { clientMessages: 0, serverChunks: 0, flights: 0, roundTrips: 0 };
  let serverSpokeLast = true;
  let awaiting = false;
  return {
    client() {
      c.clientMessages++;
      if (serverSpokeLast) {
        c.flights++;
        awaiting = true;
      }
      serverSpokeLast = false;
    },
    server() {
      c.serverChunks++;
      if (awaiting) c.roundTrips++;
      awaiting = false;
      serverSpokeLast = true;
    },
    counts: () => ({ ...c }),
  };
}
