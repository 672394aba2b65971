import type { RetryPolicy } from '../../catalogue/index.ts';
import { describeError, PermanentError, RetryLaterError, TaskRevokedError } from '../../errors.ts';
import { storableJson } from '../../results/statements.ts';
import { retryDelaySeconds } from '../backoff.ts';
import type { Execution } from '../execute.ts';

/** What an attempt came to, decided without I/O. */
export type Verdict =
  | { readonly kind: 'success'; readonly result: unknown }
  /** Revoked while it ran: the revocation already wrote REVOKED, the attempt only stops. */
  | { readonly kind: 'revoked' }
  | { readonly kind: 'retry'; readonly seconds: number; readonly error: Error }
  | { readonly kind: 'failure'; readonly reason: string; readonly stack: string | undefined };

export interface Attempt {
  /** This run's attempt, 1 on the first. */
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly retry: RetryPolicy;
  readonly random: () => number;
}

/**
 * Success (with a result PostgreSQL can store), retry (after the task's own countdown or
 * the policy's back-off) or failure: a PermanentError, a result that is not JSON, or an
 * error on the last attempt.
 */
export function classify(execution: Execution, attempt: Attempt): Verdict {
  let error: Error;
  if (execution.ok) {
    try {
      return { kind: 'success', result: storableJson(execution.value) };
    } catch (cause) {
      error = new PermanentError('the task returned a value that is not JSON', { cause });
    }
  } else {
    error = execution.error;
  }
  if (error instanceof TaskRevokedError) return { kind: 'revoked' };
  if (error instanceof PermanentError || attempt.attempt >= attempt.maxAttempts) {
    const reason = error instanceof PermanentError ? describeError(error) : `retries exhausted after ${attempt.attempt} attempts: ${describeError(error)}`;
    return { kind: 'failure', reason, stack: error.stack };
  }
  const seconds = error instanceof RetryLaterError ? error.countdownSeconds : retryDelaySeconds(attempt.retry, attempt.attempt, attempt.random);
  return { kind: 'retry', seconds, error };
}

/** An attempt beyond the budget that never recorded an outcome: its runs ended in time-outs or crashes. */
export function lostAttempts(attempt: number, maxAttempts: number): string | undefined {
  return attempt > maxAttempts ? `WorkerLostError: ${maxAttempts} attempts ended without an outcome (time-outs or crashes)` : undefined;
}
