import type { Envelope } from '../envelope/envelope.ts';
import { derivedTaskId } from '../envelope/task-id.ts';
import { callbackFlow, isGroupStep, tasksOf, type Signature } from '../envelope/flow.ts';
import type { TaskOutcomeRow } from '../results/finish.ts';
import { followUp, payloadWithResult, type FollowUp, type TaskLookup } from './workflow.ts';

/** What an error callback is given about the task that failed. */
export interface Failure {
  readonly taskId: string;
  readonly task: string;
  readonly error: string;
}

/**
 * When a workflow task ends without success, the tasks waiting on it never run: the rest
 * of its chain (groups' members included), and the callback of every chord its flow leads
 * into, at every level of nesting. Each is recorded as FAILURE with the reason, so its
 * result says why.
 */
export function abandonedByFailure(lookup: TaskLookup, envelope: Envelope, reason: string): TaskOutcomeRow[] {
  const because = `${envelope.task} ${envelope.id} did not succeed: ${reason}`;
  const rows = tasksOf(envelope.chain ?? []).map((signature) => abandoned(lookup, signature, `ChainError: ${because}`));
  for (let group = envelope.group; group; group = group.parent) {
    const callback = callbackFlow(group) ?? [];
    const error = `ChordError: member ${group.index} of ${group.size}, ${because}`;
    rows.push(...tasksOf(callback).map((signature) => abandoned(lookup, signature, error)));
  }
  return rows;
}

function abandoned(lookup: TaskLookup, signature: Signature, error: string): TaskOutcomeRow {
  const task = lookup(signature.task);
  return { id: signature.id, name: task?.name ?? signature.task, queue: task?.queue ?? 'unknown', status: 'FAILURE', error, payload: signature.payload };
}

/**
 * The error callbacks a failure for good sends: the task's own, and those of every chord
 * callback it leaves unrun, given the ChordError (as Celery calls a chord body's errbacks).
 * Each callback's id is derived from its signature and the failed task, so a failure
 * recorded again sends nothing new; one that cannot be built is reported, not sent.
 */
export function errbacksAfterFailure(lookup: TaskLookup, envelope: Envelope, reason: string): { followUps: FollowUp[]; problems: string[] } {
  const due: { errback: Signature; failure: Failure }[] = (envelope.linkError ?? []).map((errback) => ({ errback, failure: { taskId: envelope.id, task: envelope.task, error: reason } }));
  for (let group = envelope.group; group; group = group.parent) {
    const first = callbackFlow(group)?.[0];
    if (!first || isGroupStep(first)) continue;
    const error = `ChordError: member ${group.index} of ${group.size}, ${envelope.task} ${envelope.id} did not succeed: ${reason}`;
    for (const errback of first.linkError ?? []) due.push({ errback, failure: { taskId: first.id, task: first.task, error } });
  }
  const followUps: FollowUp[] = [];
  const problems: string[] = [];
  for (const { errback, failure } of due) {
    try {
      const payload = payloadWithResult({ ...errback, resultAs: errback.resultAs ?? 'failure' }, failure);
      followUps.push(followUp(lookup, { ...errback, id: errbackIdFor(errback, failure.taskId) }, payload, envelope));
    } catch (error) {
      problems.push(`error callback ${errback.task} for ${failure.taskId}: ${(error as Error).message}`);
    }
  }
  return { followUps, problems };
}

/** The id an error callback runs under when `failedTaskId` fails: UUID-shaped, fixed by the two, so its result can be awaited. */
export function errbackIdFor(errback: Pick<Signature, 'id'>, failedTaskId: string): string {
  return derivedTaskId(errback.id, failedTaskId);
}
