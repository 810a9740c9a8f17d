/**
 * The two places a session meets a resuming database (docs/operations.md "Resume after idle"): a
 * permit wait that runs out while the target's sessions are still connecting is extended once
 * (worker/admission/resume-wait.ts), and a session counts as connected when the server accepts its
 * startup (withSession's `onAccepted`); its first query, which the startup travels with, reports a
 * startup that failed.
 */
import type { AcquireOptions, AcquireResult, Budget } from '../admission/budget.js';
import type { ConnectOutcome, ConnectWatch } from '../admission/resume-wait.js';
import { SessionConnectError, type Session } from './session.js';

/** `budget.acquire`, then one extended wait if the target is resuming (never without `connects`: best-effort work). */
export async function acquireThroughResume(
  budget: Budget,
  connects: ConnectWatch | undefined,
  acq: AcquireOptions & { timeoutMs: number },
  connectTimeoutMs: number,
): Promise<AcquireResult> {
  const first = await budget.acquire(acq);
  if (first.ok || first.reason !== 'timeout' || acq.timeoutMs <= 0 || !connects) return first;
  const extensionMs = connects.extensionMs(Date.now(), connectTimeoutMs, acq.timeoutMs);
  if (extensionMs <= 0) return first;
  const second = await budget.acquire({ ...acq, timeoutMs: extensionMs });
  return { ...second, waitedMs: first.waitedMs + second.waitedMs };
}

/** `session`, reporting to `done` how its first query or batch went (a refused startup surfaces there). */
export function watchFirstAnswer(session: Session, done: (outcome: ConnectOutcome | undefined, now: number) => void): Session {
  const watched = async <T>(answer: Promise<T>): Promise<T> => {
    try {
      const res = await answer;
      done('connected', Date.now());
      return res;
    } catch (err) {
      done(err instanceof SessionConnectError ? 'failed' : 'connected', Date.now());
      throw err;
    }
  };
  return {
    ...session,
    query: <R extends Record<string, unknown>>(text: string, params?: unknown[]) => watched(session.query<R>(text, params)),
    batch: (b) => watched(session.batch(b)),
  };
}
