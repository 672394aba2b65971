import type { RetryPolicy } from '../catalogue/index.ts';

/**
 * Seconds to wait before retry `retryNumber` (1 for the first retry): Celery's
 * `retry_backoff` doubling from the base, capped at `backoffMax`, with full jitter
 * (uniform in `[0, delay]`) when the policy asks for it.
 */
export function retryDelaySeconds(policy: RetryPolicy, retryNumber: number, random: () => number = Math.random): number {
  const delay = backoffCeilingSeconds(policy, retryNumber);
  return policy.jitter ? Math.floor(random() * (delay + 1)) : delay;
}

/** The un-jittered delay: the upper bound of the jittered one. */
export function backoffCeilingSeconds(policy: RetryPolicy, retryNumber: number): number {
  const exponent = Math.min(Math.max(retryNumber - 1, 0), 30);
  return Math.min(policy.backoffMaxSeconds, Math.ceil(policy.backoffBaseSeconds * 2 ** exponent));
}

/**
 * Back-off while the result store is unreachable (a paused Aurora cluster resuming, a
 * restart). Keyed on the receive count because no task attempt was spent: from 5 s,
 * doubling to 5 minutes, with jitter so recovering consumers do not arrive together.
 */
export function outageDelaySeconds(receiveCount: number, random: () => number = Math.random): number {
  const ceiling = Math.min(300, 5 * 2 ** Math.min(Math.max(receiveCount - 1, 0), 10));
  return Math.max(1, Math.floor(ceiling / 2 + random() * (ceiling / 2)));
}
