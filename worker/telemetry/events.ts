/** Best-effort telemetry events (docs/architecture.md "Telemetry is best effort"). Producers call `emitTelemetry`; the limiter decides. */
export type TelemetryEvent =
  | {
      kind: 'request';
      requestId: string;
      clientName: string | null;
      keyPrefix: string | null;
      method: string;
      path: string;
      tableName: string | null;
      operation: string | null;
      status: number;
      errorCode: string | null;
      durationMs: number;
    }
  | {
      kind: 'auth_attempt';
      requestId: string;
      clientName: string | null;
      /** The key's visible prefix only; never the key. */
      keyPrefix: string | null;
      reason: string;
    }
  | {
      kind: 'admission';
      requestId: string | null;
      /** Redacted target label (host:port/db). */
      target: string;
      purpose: string;
      waitedMs: number;
      inUse: number;
      waiting: number;
    };
