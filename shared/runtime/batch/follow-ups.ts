import type { SQSRecord } from 'aws-lambda';
import type { Envelope } from '../../envelope/envelope.ts';
import { chordCompleted, groupResults, taskResult } from '../../results/statements.ts';
import { afterSuccess, chordCallback, countedGroup, type FollowUp, type TaskLookup } from '../workflow.ts';
import type { Outcomes } from './outcome.ts';
import type { BatchContext } from './settings.ts';

/** The follow-ups of a task that already succeeded, rebuilt from the store for a duplicate delivery to send again. */
export async function resentFollowUps(envelope: Envelope, lookup: TaskLookup, batch: BatchContext): Promise<FollowUp[]> {
  const followUps: FollowUp[] = [];
  try {
    const database = await batch.settings.database();
    const prior = await taskResult(database, envelope.id);
    if (prior) followUps.push(...afterSuccess(lookup, envelope, prior.result));
    const group = countedGroup(envelope);
    if (group?.callback && (await chordCompleted(database, group.id))) {
      followUps.push(...chordCallback(lookup, envelope, (await groupResults(database, group.id)).map((member) => member.result)));
    }
  } catch (error) {
    batch.settings.logger.warn('could not rebuild the follow-ups of a finished task', { taskId: envelope.id, error });
  }
  return followUps;
}

/**
 * The callbacks of the chords this batch completed, built from their members' results,
 * each by the member whose write completed it. Members whose callback could not be built
 * are returned as `failed`: counted but not sent, they are redelivered, find the chord
 * complete and send it then.
 */
export async function chordCallbacks(groupIds: ReadonlySet<string>, outcomes: Outcomes, lookup: TaskLookup, batch: BatchContext): Promise<{ callbacks: Map<SQSRecord, FollowUp[]>; failed: SQSRecord[] }> {
  const callbacks = new Map<SQSRecord, FollowUp[]>();
  const failed: SQSRecord[] = [];
  for (const groupId of groupIds) {
    const [record, outcome] = [...outcomes].find(([, candidate]) => (candidate.chordMember && countedGroup(candidate.chordMember)?.id) === groupId) ?? [];
    if (!record || !outcome?.chordMember) continue;
    try {
      const results = await groupResults(await batch.settings.database(), groupId);
      const callback = chordCallback(lookup, outcome.chordMember, results.map((member) => member.result));
      if (callback.length > 0) callbacks.set(record, callback);
    } catch (error) {
      batch.settings.logger.error('could not build a chord callback; the member will be redelivered to try again', { groupId, error });
      failed.push(record);
    }
  }
  return { callbacks, failed };
}
