import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SendMessageBatchCommand, type MessageAttributeValue, type SQSClient } from '@aws-sdk/client-sqs';
import type { FauxqsServer } from 'fauxqs';
import { sqsLimits } from '../catalogue/index.ts';
import { chunkBySize } from '../runtime/queue-actions.ts';
import type { SavedSchedule, SavedScheduleGroup } from './scheduler-model.ts';

/** A message waiting in the embedded emulator, as kept across a restart. */
interface SavedMessage {
  readonly queue: string;
  readonly body: string;
  readonly attributes: Record<string, MessageAttributeValue>;
  /** When it becomes visible again (a delay or a retry back-off); 0 when it already is. */
  readonly visibleAt: number;
  /** Its tenant's group (fair queues); snapshots from before tenants have none. */
  readonly groupId?: string;
}

interface InspectedMessage {
  body: string;
  messageAttributes?: Record<string, MessageAttributeValue>;
  delayUntil?: number;
  messageGroupId?: string;
}

/** The embedded Scheduler's groups and schedules; snapshots from before it have none. */
export interface SavedScheduler {
  readonly scheduleGroups?: readonly SavedScheduleGroup[];
  readonly schedules?: readonly SavedSchedule[];
}

/**
 * The embedded emulator keeps messages in memory only: the local cloud saves what its
 * queues hold on every tick and on shutdown, and sends it again on the next start.
 */
export function captureQueues(server: FauxqsServer, queueNames: readonly string[]): SavedMessage[] {
  const saved: SavedMessage[] = [];
  for (const queue of queueNames) {
    const state = server.inspectQueue(queue);
    if (!state) continue;
    const messages = state.messages as unknown as {
      ready: InspectedMessage[];
      delayed: InspectedMessage[];
      inflight: { message: InspectedMessage; visibilityDeadline: number }[];
    };
    for (const message of messages.ready) saved.push(entry(queue, message, 0));
    for (const message of messages.delayed) saved.push(entry(queue, message, message.delayUntil ?? 0));
    for (const { message, visibilityDeadline } of messages.inflight) saved.push(entry(queue, message, visibilityDeadline));
  }
  return saved;
}

function entry(queue: string, message: InspectedMessage, visibleAt: number): SavedMessage {
  return { queue, body: message.body, attributes: message.messageAttributes ?? {}, visibleAt, ...(message.messageGroupId ? { groupId: message.messageGroupId } : {}) };
}

/** Writes atomically: a crash mid-write leaves the previous snapshot. */
export async function saveSnapshot(path: string, messages: readonly SavedMessage[], scheduler: SavedScheduler = {}): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(`${path}.tmp`, JSON.stringify({ savedAt: new Date().toISOString(), messages, ...scheduler }));
  await rename(`${path}.tmp`, path);
}

/** The Scheduler part of a snapshot: nothing when there is no snapshot or it predates schedules. */
export async function readSavedScheduler(path: string): Promise<SavedScheduler> {
  try {
    const { scheduleGroups, schedules } = JSON.parse(await readFile(path, 'utf8')) as SavedScheduler;
    return { ...(scheduleGroups ? { scheduleGroups } : {}), ...(schedules ? { schedules } : {}) };
  } catch {
    return {};
  }
}

/**
 * Sends the saved messages again, each with what was left of its delay (SQS allows 15
 * minutes; a longer back-off resumes sooner, and a task's ETA still holds). Returns how many.
 */
export async function restoreSnapshot(sqs: SQSClient, path: string, urlOf: (queue: string) => string | undefined): Promise<number> {
  let snapshot: { messages: SavedMessage[] };
  try {
    snapshot = JSON.parse(await readFile(path, 'utf8')) as { messages: SavedMessage[] };
  } catch {
    return 0;
  }
  const now = Date.now();
  let restored = 0;
  const byQueue = Map.groupBy(snapshot.messages, (message) => message.queue);
  for (const [queue, messages] of byQueue) {
    const url = urlOf(queue);
    if (!url) continue;
    const entries = messages.map((message, index) => ({
      Id: `m${index}`,
      MessageBody: message.body,
      ...(Object.keys(message.attributes).length ? { MessageAttributes: message.attributes } : {}),
      ...(message.groupId ? { MessageGroupId: message.groupId } : {}),
      DelaySeconds: Math.min(sqsLimits.maxDelaySeconds, Math.max(0, Math.ceil((message.visibleAt - now) / 1000))),
    }));
    for (const chunk of chunkBySize(entries)) {
      await sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: chunk.map((e, index) => ({ ...e, Id: `m${index}` })) }));
      restored += chunk.length;
    }
  }
  // The file stays until the next save replaces it: a crash before then restores again, and
  // a task sent twice still runs once.
  return restored;
}
