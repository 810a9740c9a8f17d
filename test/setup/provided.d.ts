import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the `postgres` maintenance DB (create/drop scratch databases). */
    adminDatabaseUrl: string;
    /** Migrated catalog database. */
    databaseUrl: string;
    /** Tenant database for data operations. */
    tenantDatabaseUrl: string;
    /** `127.0.0.1:port` of the WebSocket→TCP proxy. */
    wsProxy: string;
    /** Control server that starts/stops real flushers for worker tests (test/setup/flusher-control.ts). */
    flusherControlUrl: string;
    /** FLUSH_SIGNING_SECRET those flushers verify with. */
    flushSigningSecret: string;
    /** The run's one served worker (test/support/served-client.ts `startTestGateway`); integration runs only. */
    gatewayUrl: string;
    /** The worker's deploy bundle, built once per run, that test/support/worker-server.ts serves. */
    workerBundle: import('../../bench/workerd.js').Bundle;
  }
}
