import * as z from 'zod';
import { defineTask } from '../catalogue/index.ts';
import { taskId } from '../envelope/task-id.ts';
import { PermanentError } from '../errors.ts';
import { memberStates } from '../results/members.ts';
import { implement, retry, type TaskImplementation } from './task.ts';

/** A chord member failed or was revoked: the body never runs (Celery's `ChordError`). */
export class ChordError extends PermanentError {
  override name = 'ChordError';
}

const payload = z.strictObject({
  groupId: taskId,
  members: z.array(taskId).min(1).max(10_000),
  intervalSeconds: z.number().positive().max(3600),
});

/** Looks again at most this often while members run: a long chord costs an attempt a half-minute, not a second. */
const maxIntervalSeconds = 30;
/** Looks at Celery's interval this many times first: most chords finish within them. */
const steadyAttempts = 10;

/** Celery's fixed interval at first, then backing off by half again each time, up to the most. */
export const lookAgainIn = (intervalSeconds: number, attempt: number) =>
  Math.min(maxIntervalSeconds, Math.ceil(intervalSeconds * 1.5 ** Math.max(0, attempt - steadyAttempts)));

/**
 * Celery's `celery.chord_unlock` for the chords Python sends with the database result
 * backend (see envelope/celery-canvas.ts): each queue runs its own, since Celery sends it
 * to the body's queue. It waits for every member, then returns their results in order:
 * the body, its chain, then starts with them, once. A member that failed or was revoked
 * fails it for good with ChordError, and the body with it; until then it looks again after
 * `intervalSeconds` (backing off after a while), without limit in practice (Celery's `max_retries=None`).
 */
export function chordUnlockDefinition(queue: string) {
  return defineTask({
    name: `${queue}.chord_unlock`,
    queue,
    description: "Celery's chord_unlock: waits for a chord's members, then starts its body with their results",
    payload,
    retry: { maxRetries: 10_000, backoffBaseSeconds: 1, backoffMaxSeconds: maxIntervalSeconds, jitter: false },
    softTimeLimitSeconds: 30,
    timeLimitSeconds: 60,
  });
}

export function chordUnlockTask(queue: string): TaskImplementation {
  return implement(chordUnlockDefinition(queue), async ({ members, intervalSeconds }, { database, attempt }) => {
    const states = await memberStates(database, members);
    for (const id of members) {
      const state = states.get(id);
      if (state?.status === 'FAILURE' || state?.status === 'REVOKED') throw new ChordError(`Dependency ${id} raised ${state.error ?? state.status}`);
    }
    const done = members.filter((id) => states.get(id)?.status === 'SUCCESS').length;
    if (done < members.length) {
      throw retry({ countdown: lookAgainIn(intervalSeconds, attempt), reason: `${done} of ${members.length} chord members have succeeded` });
    }
    return members.map((id) => states.get(id)!.result);
  }) as TaskImplementation;
}
