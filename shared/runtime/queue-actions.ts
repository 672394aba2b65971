import {
  ChangeMessageVisibilityBatchCommand,
  SendMessageBatchCommand,
  type MessageAttributeValue,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { messageBytes } from '../envelope/envelope.ts';
import { messageGroup } from '../envelope/tenant.ts';
import { sqsLimits } from '../catalogue/index.ts';
import { chunksBySize } from '../chunks.ts';
import { redactSecrets } from '../secrets.ts';

/** Message attributes the runtime adds to a dead-lettered message; `taskq dlq list` reads them. */
export const failureAttributes = {
  reason: 'taskq.failure.reason',
  failedAt: 'taskq.failure.at',
  taskId: 'taskq.task.id',
  attempts: 'taskq.task.attempts',
} as const;

export interface DeadLetter {
  readonly record: SQSRecord;
  readonly reason: string;
  readonly taskId: string;
  readonly attempts: number;
}

const maxReasonLength = 1000;
const maxAttributes = 10;

/**
 * Sends messages to the dead-letter queue with their body unchanged (so a redrive
 * replays them as they were) and the failure recorded in message attributes.
 * Returns the message ids that could not be sent.
 */
export async function sendToDeadLetterQueue(sqs: SQSClient, queueUrl: string, letters: readonly DeadLetter[]): Promise<Set<string>> {
  const entries = letters.map((letter, index) => deadLetterEntry(letter, `m${index}`));
  const byEntryId = new Map(entries.map((entry, index) => [entry.Id, letters[index]!.record.messageId]));
  const failed = new Set<string>();
  for (const chunk of chunkBySize(entries)) {
    try {
      const response = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: chunk }));
      for (const failure of response.Failed ?? []) failed.add(byEntryId.get(failure.Id ?? '') ?? '');
    } catch {
      for (const entry of chunk) failed.add(byEntryId.get(entry.Id) ?? '');
    }
  }
  return failed;
}

function deadLetterEntry(letter: DeadLetter, id: string): SendMessageBatchRequestEntry & { Id: string } {
  const ours: Record<string, MessageAttributeValue> = {
    [failureAttributes.reason]: { DataType: 'String', StringValue: attributeText(redactSecrets(letter.reason).slice(0, maxReasonLength)) || 'unknown' },
    [failureAttributes.failedAt]: { DataType: 'String', StringValue: new Date().toISOString() },
    [failureAttributes.taskId]: { DataType: 'String', StringValue: letter.taskId },
    [failureAttributes.attempts]: { DataType: 'Number', StringValue: String(letter.attempts) },
  };
  const theirs: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(letter.record.messageAttributes ?? {})) {
    if (name in ours) continue;
    theirs[name] = {
      DataType: value.dataType,
      ...(value.stringValue !== undefined ? { StringValue: value.stringValue } : {}),
      ...(value.binaryValue !== undefined ? { BinaryValue: Buffer.from(value.binaryValue, 'base64') } : {}),
    };
  }
  const body = letter.record.body;
  // What fits, in this order: every attribute; the message's own, so a redrive replays it as it was
  // (the failure is in the result store); ours; none.
  const fits = (candidate: Record<string, MessageAttributeValue>) => Object.keys(candidate).length <= maxAttributes && messageBytes(body, candidate) <= sqsLimits.maxMessageBytes;
  const kept = [{ ...ours, ...theirs }, theirs, ours].find((candidate) => Object.keys(candidate).length > 0 && fits(candidate));
  // The tenant's group stays with the message, so a redrive puts it back in its group.
  const group = letter.record.attributes.MessageGroupId;
  return { Id: id, MessageBody: body, ...(kept ? { MessageAttributes: kept } : {}), ...(group ? { MessageGroupId: group } : {}) };
}

/** Characters SQS refuses in a message or attribute (it takes #x9 #xA #xD #x20–#xD7FF #xE000–#xFFFD #x10000–#x10FFFF). */
// eslint-disable-next-line no-control-regex
const refusedBySqs = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/**
 * A reason as an attribute value SQS accepts. Reasons quote what the message held (a task
 * name, an unknown key) and may be cut inside a surrogate pair; one refused character
 * would fail the send, and the message would never reach the DLQ.
 */
export function attributeText(text: string): string {
  return text.toWellFormed().replace(refusedBySqs, '\uFFFD');
}

/** SendMessageBatch takes at most 10 entries and 1 MiB in all. */
export function chunkBySize<Entry extends SendMessageBatchRequestEntry>(entries: readonly Entry[]): Generator<Entry[]> {
  return chunksBySize(entries, { maxBytes: sqsLimits.maxMessageBytes, maxCount: sqsLimits.maxReceiveBatch, size: (entry) => messageBytes(entry.MessageBody ?? '', entry.MessageAttributes) });
}

/**
 * Sends messages to task queues by lane (`default`, `default-high`), in batches. Returns the
 * keys of the messages that could not be sent (or whose lane has no known URL).
 */
export async function sendMessages<Key>(
  sqs: SQSClient,
  queueUrls: Partial<Record<string, string>>,
  messages: readonly { readonly key: Key; readonly message: { readonly lane: string; readonly body: string; readonly envelope: { readonly tenant?: string | undefined } } }[],
): Promise<Set<Key>> {
  const unsent = new Set<Key>();
  const byLane = Map.groupBy(messages, (item) => item.message.lane);
  for (const [lane, items] of byLane) {
    const queueUrl = queueUrls[lane];
    if (!queueUrl) {
      for (const item of items) unsent.add(item.key);
      continue;
    }
    const entries = items.map((item, index) => ({ Id: `m${index}`, MessageBody: item.message.body, ...messageGroup(item.message.envelope), key: item.key }));
    for (const chunk of chunkBySize(entries)) {
      try {
        const response = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: chunk.map(({ key: _key, ...entry }) => entry) }));
        for (const failure of response.Failed ?? []) {
          const entry = chunk.find((e) => e.Id === failure.Id);
          if (entry) unsent.add(entry.key);
        }
      } catch {
        for (const entry of chunk) unsent.add(entry.key);
      }
    }
  }
  return unsent;
}

export interface Delay {
  readonly record: SQSRecord;
  readonly seconds: number;
}

/**
 * Hides messages for their back-off with ChangeMessageVisibilityBatch. A message whose
 * change fails keeps its current visibility timeout: later, but never lost. Returns the problems.
 */
export async function delayMessages(sqs: SQSClient, queueUrl: string, delays: readonly Delay[]): Promise<string[]> {
  const problems: string[] = [];
  for (let start = 0; start < delays.length; start += sqsLimits.maxReceiveBatch) {
    const chunk = delays.slice(start, start + sqsLimits.maxReceiveBatch);
    try {
      const response = await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((delay, index) => ({
            Id: `m${index}`,
            ReceiptHandle: delay.record.receiptHandle,
            VisibilityTimeout: Math.min(sqsLimits.maxVisibilityTimeoutSeconds, Math.max(0, Math.round(delay.seconds))),
          })),
        }),
      );
      for (const failure of response.Failed ?? []) problems.push(`${failure.Code}: ${failure.Message}`);
    } catch (error) {
      problems.push(String(error));
    }
  }
  return problems;
}
