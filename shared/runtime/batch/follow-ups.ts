import type { SQSRecord } from 'aws-lambda';
import { sqsLimits } from '../../catalogue/index.ts';
import { messageBytes, type Envelope } from '../../envelope/envelope.ts';
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

/**
 * The follow-ups as they can be sent: a payload over 256 KiB put in the files bucket first
 * (its message refers to it), or, for a consumer without a bucket, sent in the message
 * while that fits SQS's limit. A record whose payloads could not be placed is `failed`: its
 * message comes back, and its follow-ups are built and sent again then.
 */
export async function placeLargePayloads(followUps: ReadonlyMap<SQSRecord, readonly FollowUp[]>, batch: BatchContext): Promise<{ sendable: Map<SQSRecord, FollowUp[]>; failed: SQSRecord[] }> {
  const sendable = new Map<SQSRecord, FollowUp[]>();
  const failed: SQSRecord[] = [];
  if (![...followUps.values()].some((messages) => messages.some((message) => message.largePayload))) return { sendable: new Map([...followUps].map(([r, m]) => [r, [...m]])), failed };
  const store = await batch.settings.database().then((database) => database.payloads, () => undefined);
  for (const [record, messages] of followUps) {
    try {
      sendable.set(record, await Promise.all(messages.map(async (message) => {
        if (!message.largePayload) return message;
        if (store) {
          await store.put(message.largePayload.ref, message.largePayload.text);
          return message;
        }
        if (messageBytes(message.largePayload.inline) > sqsLimits.maxMessageBytes) throw new Error(`${message.envelope.id}: a payload of ${message.largePayload.ref.bytes} bytes needs the files bucket (RESULTS_BUCKET), which this consumer has not`);
        return { queue: message.queue, priority: message.priority, envelope: message.envelope, body: message.largePayload.inline };
      })));
    } catch (error) {
      batch.settings.logger.error('could not place the payload of a workflow follow-up; the message will be redelivered to try again', { messageId: record.messageId, error });
      failed.push(record);
    }
  }
  return { sendable, failed };
}
