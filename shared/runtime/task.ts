import type { Logger } from '@aws-lambda-powertools/logger';
import type { z } from 'zod';
import type { TaskDefinition } from '../catalogue/index.ts';
import type { Envelope } from '../envelope/envelope.ts';
import { RetryLaterError } from '../errors.ts';
import type { Database } from '../results/database.ts';

/** A queue whose tasks call no outside service. */
export type NoServices = Readonly<Record<never, never>>;

/**
 * What a running task knows about itself. `services` are its queue's own (the files bucket,
 * Stripe, OpenAI, …), built once from configuration by the queue's consumer: a task of a
 * queue that declares no Stripe cannot call it, and its bundle does not carry the SDK.
 */
export interface TaskContext<Services = NoServices> {
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
  readonly services: Services;
}

/**
 * Celery's `self.retry(countdown=…)`: `throw retry({ countdown: 30 })` runs the task again
 * after that many seconds, within its retry budget, instead of the policy's back-off.
 * (`throw new PermanentError(…)` is the opposite: no retry at all.)
 */
export function retry(options: { readonly countdown: number; readonly cause?: unknown; readonly reason?: string }): RetryLaterError {
  return new RetryLaterError(options.reason ?? `retry requested in ${options.countdown} s`, { countdownSeconds: options.countdown, cause: options.cause });
}

export type TaskRun<Payload, Services = NoServices> = (payload: Payload, context: TaskContext<Services>) => unknown;

/** A catalogue entry with the code that runs it. */
export interface TaskImplementation<Definition extends TaskDefinition = TaskDefinition, Services = unknown> {
  readonly definition: Definition;
  // A method, so a queue's implementations of any services fit the runtime's list of them.
  run(payload: z.output<Definition['payload']>, context: TaskContext<Services>): unknown;
}

/** Binds a catalogue task that uses no outside service to its code; the payload's type comes from the task's schema. */
export function implement<Definition extends TaskDefinition>(
  definition: Definition,
  run: TaskRun<z.output<Definition['payload']>>,
): TaskImplementation<Definition, NoServices> {
  return { definition, run };
}

/** `implement` for a queue whose tasks use `Services`: `const implementAi = implementWith<AiServices>()`. */
export function implementWith<Services>() {
  return <Definition extends TaskDefinition>(definition: Definition, run: TaskRun<z.output<Definition['payload']>, Services>): TaskImplementation<Definition, Services> => ({ definition, run });
}
