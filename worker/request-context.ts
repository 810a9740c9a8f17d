/**
 * One request's context: built once by the request-context middleware, stored as `c.var.ctx`, and
 * read by every middleware and route after it — request id, start time, settings, the isolate's
 * services, and the session context database and telemetry code run under (`waitUntil`, the
 * admission hook) — and the request's open telemetry batch. One plain object per request: its
 * methods live on the prototype, not in closures.
 */
import type { ExecutionContext } from 'hono';
import type { Settings } from './config.js';
import type { AdmissionRefusal, SessionContext } from './db/with-session.js';
import type { Isolate, Services } from './isolate.js';
import { emitTelemetry, type BatchHolder } from './telemetry/emit.js';
import type { RequestEvents } from './telemetry/task.js';

export class RequestContext implements SessionContext, BatchHolder {
  readonly settings: Settings;
  readonly services: Services;
  /**
   * This request's telemetry while the request-log middleware has it open: on the request's own
   * scope, so requests sharing a client-chosen `x-request-id` never share a batch.
   */
  telemetryBatch: RequestEvents | undefined = undefined;

  constructor(
    readonly isolate: Isolate,
    readonly requestId: string,
    /** Epoch ms at which the request arrived. */
    readonly startedAt: number,
    /** Absent when the app runs outside a Workers execution context (a bare `app.request`). */
    private readonly exec: ExecutionContext | undefined,
  ) {
    this.settings = isolate.settings;
    this.services = isolate.services;
  }

  /** Whether work may outlive the response: false without an execution context. */
  get canOutliveResponse(): boolean {
    return this.exec !== undefined;
  }

  /** `waitUntil` of the request; without an execution context the promise just runs. */
  waitUntil(promise: Promise<unknown>): void {
    if (this.exec) this.exec.waitUntil(promise);
    else void promise.catch(() => undefined);
  }

  /** A permit did not come in time: recorded as an `admission` telemetry event of this request. */
  onAdmissionRefused(refusal: AdmissionRefusal): void {
    emitTelemetry(this, { kind: 'admission', requestId: this.requestId, ...refusal });
  }
}
