import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  StartMessageMoveTaskCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { reasonOf } from '../errors.ts';
import { chunkBySize, failureAttributes } from '../runtime/queue-actions.ts';

/** A dead-lettered message, decoded. */
export interface DeadLetterView {
  readonly messageId: string;
  readonly taskId: string | null;
  readonly task: string | null;
  readonly reason: string | null;
  readonly failedAt: string | null;
  readonly attempts: number | null;
  readonly receiveCount: number;
  readonly body: string;
}

export type Progress = (done: number, total: number | undefined) => void;

const peekSeconds = 30;

/** Reads up to `limit` dead letters without consuming them: they are visible again right after. */
export async function listDeadLetters(sqs: SQSClient, deadLetterUrl: string, limit = 100): Promise<DeadLetterView[]> {
  const seen = new Map<string, Message>();
  while (seen.size < limit) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: deadLetterUrl,
        MaxNumberOfMessages: Math.min(10, limit - seen.size),
        VisibilityTimeout: peekSeconds,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) break;
    for (const message of Messages) seen.set(message.MessageId!, message);
  }
  await release(sqs, deadLetterUrl, [...seen.values()]);
  return [...seen.values()].map(decode);
}

/**
 * Moves dead letters back to their source queue, all of them or those of the given task
 * ids. The body is unchanged, so each keeps its task id and attempt history; the result
 * store gives a redriven task a fresh retry budget. Uses StartMessageMoveTask where the
 * endpoint has it (all messages only), receive → send → delete otherwise.
 */
export async function redriveDeadLetters(
  sqs: SQSClient,
  options: { deadLetterUrl: string; queueUrl: string; taskIds?: readonly string[]; onProgress?: Progress },
): Promise<RedriveOutcome> {
  if (!options.taskIds) {
    const moved = await moveWithMessageMoveTask(sqs, options).catch((error: unknown) => {
      if (isUnsupported(error)) return undefined;
      throw error;
    });
    if (moved !== undefined) return { moved, method: 'message-move-task', unmoved: [] };
  }
  const wanted = options.taskIds ? new Set(options.taskIds) : undefined;
  const total = wanted?.size ?? Number((await attributes(sqs, options.deadLetterUrl)).ApproximateNumberOfMessages ?? 0);
  // Received but not moved: made visible again at the end, so the loop does not meet them twice.
  const kept: Message[] = [];
  const unmoved: Unmoved[] = [];
  let moved = 0;
  try {
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: options.deadLetterUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 120, WaitTimeSeconds: 0, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['MessageGroupId'] }),
      );
      if (Messages.length === 0) break;
      const chosen = Messages.filter((message) => !wanted || wanted.has(decode(message).taskId ?? ''));
      kept.push(...Messages.filter((message) => !chosen.includes(message)));
      const entries = chosen.map((message, index) => ({
        Id: `m${index}`, MessageBody: message.Body!, MessageAttributes: withoutFailure(message.MessageAttributes),
        // Back in its tenant's group (fair queues).
        ...(message.Attributes?.MessageGroupId ? { MessageGroupId: message.Attributes.MessageGroupId } : {}),
        message,
      }));
      // Ten dead letters may hold up to 10 MiB; a batch takes 1 MiB in all.
      for (const chunk of chunkBySize(entries)) {
        const done: Message[] = [];
        try {
          const sent = await sqs.send(new SendMessageBatchCommand({ QueueUrl: options.queueUrl, Entries: chunk.map(({ message: _message, ...entry }) => entry) }));
          const failures = new Map((sent.Failed ?? []).map((failure) => [failure.Id, `${failure.Code}: ${failure.Message ?? ''}`]));
          for (const entry of chunk) {
            const failure = failures.get(entry.Id);
            if (failure === undefined) done.push(entry.message);
            else unmoved.push({ messageId: entry.message.MessageId!, taskId: decode(entry.message).taskId, reason: failure });
          }
        } catch (error) {
          for (const entry of chunk) unmoved.push({ messageId: entry.message.MessageId!, taskId: decode(entry.message).taskId, reason: reasonOf(error) });
        }
        kept.push(...chunk.map((entry) => entry.message).filter((message) => !done.includes(message)));
        if (done.length > 0) {
          await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: options.deadLetterUrl, Entries: done.map((message, index) => ({ Id: `m${index}`, ReceiptHandle: message.ReceiptHandle! })) }));
        }
        moved += done.length;
        options.onProgress?.(moved, total);
      }
      // Messages that fail again come back to the dead-letter queue: stop at what was there.
      if (moved + unmoved.length >= total) break;
    }
  } finally {
    await release(sqs, options.deadLetterUrl, kept);
  }
  return { moved, method: 'receive-send-delete', unmoved };
}

/** A dead letter the redrive could not move: it stays in the dead-letter queue, visible. */
export interface Unmoved {
  readonly messageId: string;
  readonly taskId: string | null;
  readonly reason: string;
}

export interface RedriveOutcome {
  readonly moved: number;
  readonly method: 'message-move-task' | 'receive-send-delete';
  readonly unmoved: readonly Unmoved[];
}

/** Deletes every dead letter of a queue; returns how many there were. */
export async function purgeDeadLetters(sqs: SQSClient, deadLetterUrl: string): Promise<number> {
  const count = Number((await attributes(sqs, deadLetterUrl)).ApproximateNumberOfMessages ?? 0);
  await sqs.send(new PurgeQueueCommand({ QueueUrl: deadLetterUrl }));
  return count;
}

async function moveWithMessageMoveTask(sqs: SQSClient, options: { deadLetterUrl: string; queueUrl: string; onProgress?: Progress }): Promise<number> {
  const [source, destination] = await Promise.all([attributes(sqs, options.deadLetterUrl), attributes(sqs, options.queueUrl)]);
  const total = Number(source.ApproximateNumberOfMessages ?? 0);
  await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: source.QueueArn, DestinationArn: destination.QueueArn }));
  for (;;) {
    const { Results = [] } = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: source.QueueArn, MaxResults: 1 }));
    const task = Results[0];
    options.onProgress?.(Number(task?.ApproximateNumberOfMessagesMoved ?? 0), total);
    if (!task || task.Status === 'COMPLETED') return Number(task?.ApproximateNumberOfMessagesMoved ?? total);
    if (task.Status === 'FAILED' || task.Status === 'CANCELLED') throw new Error(`message move task ${task.Status}: ${task.FailureReason ?? ''}`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function isUnsupported(error: unknown): boolean {
  const name = (error as { name?: string }).name ?? '';
  return ['InvalidAction', 'UnsupportedOperation', 'UnknownOperationException', 'InvalidActionException'].includes(name);
}

async function attributes(sqs: SQSClient, queueUrl: string) {
  const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn', 'ApproximateNumberOfMessages'] }));
  return Attributes;
}

async function release(sqs: SQSClient, queueUrl: string, messages: readonly Message[]): Promise<void> {
  for (let start = 0; start < messages.length; start += 10) {
    const chunk = messages.slice(start, start + 10);
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: chunk.map((message, index) => ({ Id: `m${index}`, ReceiptHandle: message.ReceiptHandle!, VisibilityTimeout: 0 })) }),
    );
  }
}

function withoutFailure(attributes: Record<string, MessageAttributeValue> = {}): Record<string, MessageAttributeValue> {
  const ours = new Set<string>(Object.values(failureAttributes));
  return Object.fromEntries(Object.entries(attributes).filter(([name]) => !ours.has(name)));
}

function decode(message: Message): DeadLetterView {
  const attribute = (name: string) => message.MessageAttributes?.[name]?.StringValue ?? null;
  let envelope: { id?: unknown; task?: unknown } = {};
  try {
    envelope = JSON.parse(message.Body ?? '') as typeof envelope;
  } catch {
    // A message rejected for its JSON has no envelope to read.
  }
  const attempts = attribute(failureAttributes.attempts);
  return {
    messageId: message.MessageId!,
    taskId: attribute(failureAttributes.taskId) ?? (typeof envelope.id === 'string' ? envelope.id : null),
    task: typeof envelope.task === 'string' ? envelope.task : null,
    reason: attribute(failureAttributes.reason),
    failedAt: attribute(failureAttributes.failedAt),
    attempts: attempts === null ? null : Number(attempts),
    receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 0),
    body: message.Body ?? '',
  };
}
