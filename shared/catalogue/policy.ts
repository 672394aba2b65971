import type { ConcurrencyLimit, QueueDefinition, RateLimit, TaskDefinition } from './define.ts';
import { parseRateLimit } from './define.ts';

/**
 * A task's policy as changed at run time (`taskq control`), kept in the result store: what
 * is set replaces the catalogue's value until `control reset`; what is not keeps it.
 */
export interface PolicyOverride {
  /** Celery's rate syntax, normalised (`10/m`); `0` lifts the catalogue's limit. */
  readonly rateLimit?: string;
  readonly softTimeLimitSeconds?: number;
  readonly timeLimitSeconds?: number;
  /** Tasks at once per key; `0` lifts the catalogue's limit. */
  readonly concurrencyLimit?: number;
  /** When an operator last changed it (ISO). */
  readonly updatedAt?: string;
}

/** The most tasks at once a concurrency limit allows: each is a slot row. */
export const maxConcurrencyLimit = 1000;

/** How often a consumer reads the run-time changes again: a change applies everywhere within this. */
export const policyRefreshMs = 5_000;

/** What a consumer applies to a task: the catalogue's policy with the overrides in force. */
export interface EffectivePolicy {
  /** The rate limit in force as text, or undefined for none. */
  readonly rateLimit: string | undefined;
  readonly rate: RateLimit | undefined;
  readonly softTimeLimitSeconds: number;
  readonly timeLimitSeconds: number;
  /** The concurrency limit in force, or undefined for none. */
  readonly concurrency: ConcurrencyLimit | undefined;
}

/**
 * Reads a rate as Celery's `rate_limit` and `control rate_limit` take it: `10/s`, `60/m`,
 * `100/h`, or a bare number meaning per second; zero means no limit (`limit` undefined).
 * Undefined when malformed. `text` is the normalised form, as stored and shown.
 */
export function parseRate(text: string): { readonly text: string; readonly limit: RateLimit | undefined } | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*([smh]))?\s*$/.exec(text);
  if (!match) return undefined;
  const count = Number(match[1]);
  if (!Number.isFinite(count)) return undefined;
  if (count === 0) return { text: '0', limit: undefined };
  const normalised = `${count}/${match[2] ?? 's'}`;
  const limit = parseRateLimit(normalised);
  return limit ? { text: normalised, limit } : undefined;
}

const durationUnits = { ms: 0.001, s: 1, m: 60, h: 3600 } as const;

/** Reads a time limit in seconds: `90`, `90s`, `1.5m`, `500ms`, `1h`; undefined unless a positive, finite duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!match) return undefined;
  const seconds = Number(match[1]) * durationUnits[(match[2] ?? 's') as keyof typeof durationUnits];
  return Number.isFinite(seconds) && seconds > 0 ? seconds : undefined;
}

/** The catalogue's policy of a task with its overrides applied. */
export function effectivePolicy(definition: TaskDefinition, override: PolicyOverride | undefined): EffectivePolicy {
  const rateText = override?.rateLimit ?? definition.rateLimit;
  // A stored rate is normalised when written; one that no longer parses falls back to the catalogue's.
  const parsed = rateText === undefined ? undefined : (parseRate(rateText) ?? (definition.rateLimit ? parseRate(definition.rateLimit) : undefined));
  const timed = override?.softTimeLimitSeconds !== undefined && override.timeLimitSeconds !== undefined;
  return {
    rateLimit: parsed?.limit ? parsed.text : undefined,
    rate: parsed?.limit,
    softTimeLimitSeconds: timed ? override.softTimeLimitSeconds! : definition.softTimeLimitSeconds,
    timeLimitSeconds: timed ? override.timeLimitSeconds! : definition.timeLimitSeconds,
    concurrency: concurrencyOf(definition, override),
  };
}

/** The catalogue's concurrency limit with an operator's change: a new limit on the same key, `0` for none. */
function concurrencyOf(definition: TaskDefinition, override: PolicyOverride | undefined): ConcurrencyLimit | undefined {
  const limit = override?.concurrencyLimit ?? definition.concurrency?.limit;
  if (!limit) return undefined;
  return definition.concurrency?.key === undefined ? { limit } : { key: definition.concurrency.key, limit };
}

/** A change an operator asks for: a rate, or both time limits. */
export type PolicyChange =
  | { readonly kind: 'rate-limit'; readonly rate: string }
  | { readonly kind: 'time-limit'; readonly softSeconds: number; readonly hardSeconds: number }
  | { readonly kind: 'concurrency'; readonly limit: number };

/**
 * Every reason a change cannot apply, all at once (empty when it can). A hard limit beyond
 * the queue's consumer timeout would need a deploy: Lambda ends the invocation there.
 */
export function policyChangeErrors(definition: TaskDefinition, queue: QueueDefinition, change: PolicyChange): string[] {
  if (change.kind === 'rate-limit') {
    return parseRate(change.rate) ? [] : [`a rate looks like 10/s, 60/m, 100/h or 5 (per second), and 0 lifts the limit; not ${change.rate}`];
  }
  if (change.kind === 'concurrency') {
    return Number.isInteger(change.limit) && change.limit >= 0 && change.limit <= maxConcurrencyLimit ? [] : [`a concurrency limit is a whole number from 1 to ${maxConcurrencyLimit}, and 0 lifts the limit; not ${change.limit}`];
  }
  const errors: string[] = [];
  const { softSeconds, hardSeconds } = change;
  if (!(softSeconds > 0) || !(hardSeconds > 0)) errors.push('time limits must be positive');
  if (softSeconds >= hardSeconds) errors.push(`the soft limit (${softSeconds} s) must be below the hard limit (${hardSeconds} s)`);
  if (hardSeconds > queue.timeoutSeconds) {
    errors.push(`the hard limit (${hardSeconds} s) exceeds the ${queue.name} consumer's timeout of ${queue.timeoutSeconds} s, which only a deploy can raise`);
  }
  if (definition.queue !== queue.name) errors.push(`${definition.name} runs on ${definition.queue}, not ${queue.name}`);
  return errors;
}
