import type { SQSRecord } from 'aws-lambda';
import { parseMessage, reject, type ParsedMessage, type RejectedMessage, type TaskDirectory } from '../parse.ts';
import type { Hydrated } from './hydrate.ts';

/** What a record is, before any I/O: a message to reject, or a task with its place in the batch and in time. */
export type Plan =
  | RejectedMessage
  | (ParsedMessage & {
      /** A later copy of a task another record of this batch carries: acknowledged, never run twice. */
      readonly duplicateInBatch: boolean;
      /** Past its `expires` (revoked at pick-up), before its `eta` (delayed again), or due now. */
      readonly timing: 'due' | 'early' | 'expired';
    });

/**
 * Parses each record and places it: one row per id in each statement, so later copies of
 * a task are duplicates, and a rejected message whose id another message of the batch uses
 * is recorded under its SQS message id instead.
 */
export function planBatch(records: readonly SQSRecord[], directory: TaskDirectory, now = Date.now(), hydrated?: Pick<Hydrated, 'envelopes' | 'refused'>): Map<SQSRecord, Plan> {
  const plans = new Map<SQSRecord, Plan>();
  const parsed = records.map((record) => [record, parsedRecord(record, directory, hydrated)] as const);
  const seen = new Set<string>();
  for (const [record, message] of parsed) {
    if (!message.ok) continue;
    const { eta, expires } = message.envelope;
    const timing = expires && Date.parse(expires) <= now ? 'expired' : eta && Date.parse(eta) > now ? 'early' : 'due';
    plans.set(record, { ...message, duplicateInBatch: seen.has(message.envelope.id), timing });
    seen.add(message.envelope.id);
  }
  for (const [record, message] of parsed) {
    if (message.ok) continue;
    plans.set(record, { ...message, id: seen.has(message.id) ? record.messageId : message.id });
    seen.add(message.id);
  }
  // In the records' order, as the batch processor hands them over.
  return new Map(records.map((record) => [record, plans.get(record)!]));
}

/** A record parsed, its payload from the bucket when it was sent by reference; refused when that payload could not be read. */
function parsedRecord(record: SQSRecord, directory: TaskDirectory, hydrated: Pick<Hydrated, 'envelopes' | 'refused'> | undefined): ParsedMessage | RejectedMessage {
  const refusal = hydrated?.refused.get(record);
  if (refusal === undefined) return parseMessage(record, directory, hydrated?.envelopes.get(record));
  const known = parseMessage(record, directory);
  return reject(record, known.ok ? { id: known.envelope.id, task: known.envelope.task } : { id: known.id, task: known.task }, refusal);
}

/**
 * How long each task held back by its rate limit waits: the n-th waiting message's token
 * comes after about n / rate seconds, and jitter (from `random`) spreads consumers apart.
 */
export function throttleWaits(waiting: number, perSecond: number, random: () => number): number[] {
  return Array.from({ length: waiting }, (_, n) => Math.max(1, Math.ceil(((n + 1) / perSecond) * (1 + random()))));
}

/** A time as PostgreSQL takes it: ISO 8601 allows offsets up to ±23:59, PostgreSQL only to ±15:59. */
export function inUtc(time: string): string {
  return new Date(time).toISOString();
}
