import type { QueueName } from '../catalogue/index.ts';
import { base64KombuMessage, isKombuMessage } from '../envelope/celery.ts';

/**
 * A message as an emulator holds it. SQS itself lets no one read a delayed or an in-flight
 * message (receiving one would take it from its consumer), so only the local cloud, which
 * holds its queues in memory, can list them one by one; against AWS `inspect` gives counts.
 */
export interface PeekedMessage {
  readonly messageId: string;
  readonly body: string;
  /** `delayed`: sent with a DelaySeconds still running; `in-flight`: received and hidden; `ready`: visible. */
  readonly state: 'ready' | 'delayed' | 'in-flight';
  /** When a delayed or in-flight message becomes visible (epoch ms). */
  readonly visibleAt: number | null;
  readonly receiveCount: number;
  readonly sentAt: number;
}

/** Every message of a queue, read without receiving any; undefined where the endpoint cannot tell (AWS). */
export type QueuePeek = (queue: QueueName) => readonly PeekedMessage[] | undefined;

/** The task a body carries, for an envelope and for a Celery message alike; nulls where it cannot be read. */
export interface BodyTask {
  readonly id: string | null;
  readonly task: string | null;
  readonly eta: string | null;
}

const text = (value: unknown) => (typeof value === 'string' && value.length > 0 ? value : null);

/** Reads the task id, name and ETA of a message body without checking it as the consumer will. */
export function taskOfBody(body: string): BodyTask {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = base64KombuMessage(body, JSON.parse);
  }
  if (isKombuMessage(json)) {
    const headers = (json as { headers?: Record<string, unknown> }).headers ?? {};
    return { id: text(headers.id), task: text(headers.task), eta: text(headers.eta) };
  }
  const envelope = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  return { id: text(envelope.id), task: text(envelope.task), eta: text(envelope.eta) };
}
