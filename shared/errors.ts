/** Base of every error the task runtime understands; `cause` keeps the original. */
export class TaskError extends Error {
  override name = 'TaskError';
}

/**
 * Record the failure and do not retry (Celery's `Reject(requeue=False)`, BullMQ's
 * `UnrecoverableError`): the message goes to the dead-letter queue at once.
 */
export class PermanentError extends TaskError {
  override name = 'PermanentError';
}

/** Retry after `countdownSeconds` instead of the policy's back-off (Celery's `self.retry(countdown=…)`). */
export class RetryLaterError extends TaskError {
  override name = 'RetryLaterError';
  readonly countdownSeconds: number;

  constructor(message: string, options: { countdownSeconds: number; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.countdownSeconds = options.countdownSeconds;
  }
}

/** The task ran past its soft time limit and did not return (Celery's `SoftTimeLimitExceeded`). */
export class SoftTimeLimitExceeded extends TaskError {
  override name = 'SoftTimeLimitExceeded';
}

/** The task was revoked while it ran and gave up at its next check (Celery's `TaskRevokedError`). */
export class TaskRevokedError extends TaskError {
  override name = 'TaskRevokedError';
}

/** A message the runtime cannot even start: bad JSON, envelope or payload, unknown task. */
export class InvalidMessageError extends PermanentError {
  override name = 'InvalidMessageError';
}

/** Any thrown value as an `Error` (a task may throw a string or a plain object). */
export function coerceError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  if (typeof thrown === 'string') return new Error(thrown);
  try {
    return new Error(`non-error thrown: ${JSON.stringify(thrown)}`);
  } catch {
    return new Error(`non-error thrown: ${String(thrown)}`);
  }
}

/** One line a person can read: `Name: message`, with the cause's when there is one. */
export function describeError(error: Error): string {
  const cause = error.cause instanceof Error && !error.message.includes(error.cause.message) ? ` (caused by ${error.cause.name}: ${error.cause.message})` : '';
  return `${error.name}: ${error.message}${cause}`;
}

/**
 * What went wrong, for a person at the CLI or the dashboard: a failed statement's own text
 * (drizzle's `Failed query: <sql> params: …`) says nothing, so the reason is the deepest
 * cause's, which for the Data API is the service's (`BadRequestException: …`).
 */
export function reasonOf(thrown: unknown): string {
  const error = coerceError(thrown);
  if (!isFailedQuery(error)) return error.message;
  let cause = error;
  while (isFailedQuery(cause) && cause.cause !== undefined) cause = coerceError(cause.cause);
  return isFailedQuery(cause) ? 'a database statement failed and gave no reason' : `${cause.name}: ${cause.message}`;
}

function isFailedQuery(error: Error): boolean {
  return error.message.startsWith('Failed query: ');
}

/** The task was still running at its hard time limit (Celery's `TimeLimitExceeded`). */
export class TimeLimitExceeded extends TaskError {
  override name = 'TimeLimitExceeded';
}

/** An SDK exception's shape, as every AWS client raises it. */
interface ServiceException {
  readonly name?: string;
  readonly message?: string;
  readonly $fault?: 'client' | 'server';
  readonly $metadata?: { readonly httpStatusCode?: number };
  /** PostgreSQL's SQLSTATE, from node-postgres and PGlite. */
  readonly code?: unknown;
  readonly cause?: unknown;
}

/** Client faults that pass: throttling, expired credentials, a pausing cluster, a timed-out request. */
const passingClientFaults = new Set([
  'ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded', 'SlowDown',
  'RequestTimeout', 'RequestTimeoutException', 'ExpiredToken', 'ExpiredTokenException', 'RequestExpired',
  'DatabaseResumingException', 'DatabaseNotFoundException', 'StatementTimeoutException', 'TransactionNotFoundException',
]);

/** SQLSTATE classes of a statement that will fail the same way again: data exceptions, integrity, program limits. */
const lastingSqlStates = /^(22|23|54)/;

/**
 * Whether a request was refused for what it carries, so sending it again cannot succeed:
 * an oversized request (413), a result the Data API cannot return, a PostgreSQL data or
 * limit error, or any other AWS client fault that is not one that passes. Outages,
 * throttling and network errors are not: they are retried.
 */
export function isPermanentRefusal(thrown: unknown): boolean {
  for (let error = thrown as ServiceException | undefined, depth = 0; error && depth < 8; error = error.cause as ServiceException | undefined, depth++) {
    if (typeof error !== 'object') return false;
    if (error.$metadata?.httpStatusCode === 413 || error.name === 'UnsupportedResultException') return true;
    if (typeof error.code === 'string' && lastingSqlStates.test(error.code)) return true;
    // The Data API passes a PostgreSQL error on with its SQLSTATE at the end of the message.
    const sqlState = /SQLState: (\w{5})\s*$/.exec(error.message ?? '')?.[1];
    if (sqlState) return lastingSqlStates.test(sqlState);
    if (error.$fault === 'client') {
      if (error.name === 'BadRequestException' || error.name === 'DatabaseErrorException') return /too large|size limit|exceeds/i.test(error.message ?? '');
      return !passingClientFaults.has(error.name ?? '');
    }
  }
  return false;
}

/** A refusal as its task's record tells it: the service's own reason, under its name. */
export function describeRefusal(thrown: unknown): string {
  const reason = reasonOf(thrown);
  const error = coerceError(thrown);
  return isFailedQuery(error) || reason.startsWith(`${error.name}: `) ? reason : `${error.name}: ${reason}`;
}
