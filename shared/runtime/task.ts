import type { Logger } from '@aws-lambda-powertools/logger';
import type { z } from 'zod';
import type { TaskDefinition } from '../catalogue/index.ts';
import type { Envelope } from '../envelope/envelope.ts';
import { RetryLaterError } from '../errors.ts';
import type { Database } from '../results/database.ts';
import type { TaskServices } from '../services.ts';

/** What a running task knows about itself. */
export interface TaskContext {
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  /** 1 on the first run, 2 on the first retry, … */
  readonly attempt: number;
  readonly maxRetries: number;
  /**
   * Fires at the soft time limit (reason `SoftTimeLimitExceeded`) or when the task is
   * revoked while running (`TaskRevokedError`): stop work, clean up, return or throw.
   * `signal.throwIfAborted()` is the usual check between steps.
   */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  readonly envelope: Envelope;
  readonly database: Database;
  readonly services: TaskServices;
}

/**
 * Celery's `self.retry(countdown=…)`: `throw retry({ countdown: 30 })` runs the task again
 * after that many seconds, within its retry budget, instead of the policy's back-off.
 * (`throw new PermanentError(…)` is the opposite: no retry at all.)
 */
export function retry(options: { readonly countdown: number; readonly cause?: unknown; readonly reason?: string }): RetryLaterError {
  return new RetryLaterError(options.reason ?? `retry requested in ${options.countdown} s`, { countdownSeconds: options.countdown, cause: options.cause });
}

export type TaskRun<Payload> = (payload: Payload, context: TaskContext) => unknown;

/** A catalogue entry with the code that runs it. */
export interface TaskImplementation<Definition extends TaskDefinition = TaskDefinition> {
  readonly definition: Definition;
  readonly run: TaskRun<z.output<Definition['payload']>>;
}

/** Binds a catalogue task to its code; the payload's type comes from the task's schema. */
export function implement<Definition extends TaskDefinition>(
  definition: Definition,
  run: TaskRun<z.output<Definition['payload']>>,
): TaskImplementation<Definition> {
  return { definition, run };
}
