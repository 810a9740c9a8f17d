/**
 * Counters of what auth refused from memory, for status and metrics: forged keys (bad tag, unknown
 * legacy prefix, malformed) per client named in the request, unknown client names (one total: the
 * names themselves are attacker-chosen and never stored), and fail-open admissions per client.
 * Counts only — never key material. Pure and bounded.
 */
import { boundedRows } from './bounded-rows.js';

export type ClientRefusals = { forgedKeys: number; failOpenAdmissions: number };

export type RefusalCounters = {
  forged(client: string | undefined): void;
  unknownClient(): void;
  failOpen(client: string): void;
  snapshot(): { unknownClients: number; forgedKeys: number; byClient: Record<string, ClientRefusals> };
};

/** Refusals for requests that named no (known) client. */
const NO_CLIENT = '(none)';

export function createRefusalCounters(maxClients: number): RefusalCounters {
  const byClient = boundedRows<ClientRefusals>(maxClients, () => ({ forgedKeys: 0, failOpenAdmissions: 0 }));
  const row = byClient.row;
  let unknownClients = 0;
  let forgedKeys = 0;
  return {
    forged(client) {
      forgedKeys++;
      row(client ?? NO_CLIENT).forgedKeys++;
    },
    unknownClient() {
      unknownClients++;
    },
    failOpen(client) {
      row(client).failOpenAdmissions++;
    },
    snapshot() {
      return { unknownClients, forgedKeys, byClient: byClient.snapshot() };
    },
  };
}
