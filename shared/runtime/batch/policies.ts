import { effectivePolicy, policyRefreshMs, type EffectivePolicy, type PolicyOverride, type TaskDefinition } from '../../catalogue/index.ts';
import type { Database } from '../../results/database.ts';
import { readTaskPolicies } from '../../results/policies.ts';

/** The policies a batch applies: each task's catalogue policy with the run-time changes in force. */
export interface TaskPolicies {
  of(definition: TaskDefinition): EffectivePolicy;
}

/** The catalogue alone: what applies before the first read, and in the pure steps' tests. */
export const cataloguePolicies: TaskPolicies = { of: (definition) => effectivePolicy(definition, undefined) };

/**
 * The run-time policy changes (`taskq control`), read from the result store at most once
 * every `refreshMs` per consumer process: an ordinary batch spends no statement on them,
 * and a change reaches every consumer within `refreshMs` of the next batch. One read at a
 * time; when a read fails, the last values known stay in force (before any, the read's
 * error goes to the batch, which backs off as for any outage of the store).
 */
export class PolicyCache {
  readonly #refreshMs: number;
  #known: TaskPolicies | undefined;
  #readAt = 0;
  #reading: Promise<TaskPolicies> | undefined;

  /** @param refreshMs How stale a change may be when a batch applies it. @default policyRefreshMs (5 s) */
  constructor(refreshMs = policyRefreshMs) {
    this.#refreshMs = refreshMs;
  }

  async current(database: Database, now = Date.now()): Promise<TaskPolicies> {
    if (this.#known && now - this.#readAt < this.#refreshMs) return this.#known;
    this.#reading ??= readTaskPolicies(database)
      .then((overrides) => {
        this.#known = policiesFrom(overrides);
        this.#readAt = now;
        return this.#known;
      })
      .finally(() => {
        this.#reading = undefined;
      });
    try {
      return await this.#reading;
    } catch (error) {
      if (!this.#known) throw error;
      // Retried at the next batch, not in a loop: the store is likely away, and the claim will say so.
      this.#readAt = now - this.#refreshMs / 2;
      return this.#known;
    }
  }
}

/** Effective policies over a set of overrides, each computed once per task name. */
export function policiesFrom(overrides: ReadonlyMap<string, PolicyOverride>): TaskPolicies {
  const computed = new Map<string, EffectivePolicy>();
  return {
    of(definition) {
      let policy = computed.get(definition.name);
      if (!policy) computed.set(definition.name, (policy = effectivePolicy(definition, overrides.get(definition.name))));
      return policy;
    },
  };
}
