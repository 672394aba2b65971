import * as z from 'zod';
import { sqsLimits, type QueueName, type TaskDefinition } from '../catalogue/index.ts';
import { messageBytes, newEnvelope, type Envelope, type Signature } from '../envelope/envelope.ts';
import type { TaskOutcomeRow } from '../results/finish.ts';

/** A message a finished task sends on: a chain's next step or a chord's callback. */
export interface FollowUp {
  readonly queue: QueueName;
  readonly envelope: Envelope;
  readonly body: string;
}

/** Finds a task by name or alias. */
export type TaskLookup = (name: string) => TaskDefinition | undefined;

/**
 * The payload a signature runs with once the result before it is known: in the field
 * `resultAs` names, or, without one, an object result's fields under the signature's own
 * (Celery's partial arguments: what the signature fixes wins). An immutable signature
 * ignores the result (Celery's `.si()`).
 */
export function payloadWithResult(signature: Signature, result: unknown): Record<string, unknown> {
  if (signature.immutable) return { ...signature.payload };
  if (signature.resultAs) return { ...signature.payload, [signature.resultAs]: result };
  if (typeof result === 'object' && result !== null && !Array.isArray(result)) return { ...(result as Record<string, unknown>), ...signature.payload };
  return { ...signature.payload };
}

/**
 * Builds the message for a signature, checked as a producer's would be: a known task, a
 * payload its schema accepts, a body within SQS's limit. Throws a one-line reason otherwise.
 */
export function followUp(lookup: TaskLookup, signature: Signature, payload: Record<string, unknown>, parent: Envelope, fields: Pick<Partial<Envelope>, 'chain' | 'group'> = {}): FollowUp {
  const task = lookup(signature.task);
  if (!task) throw new Error(`unknown task '${signature.task}'`);
  const checked = task.payload.safeParse(payload);
  if (!checked.success) throw new Error(`the payload does not fit ${task.name}: ${z.prettifyError(checked.error).replaceAll('\n', ' ')}`);
  const envelope = newEnvelope(task.name, payload, {
    id: signature.id,
    parentId: parent.id,
    rootId: parent.rootId ?? parent.id,
    ...(parent.traceparent ? { traceparent: parent.traceparent } : {}),
    ...fields,
  });
  const body = JSON.stringify(envelope);
  const bytes = messageBytes(body);
  if (bytes > sqsLimits.maxMessageBytes) throw new Error(`the message would be ${bytes} bytes, over SQS's limit: return S3 keys rather than data`);
  return { queue: task.queue as QueueName, envelope, body };
}

/** The chain's next step after `envelope` succeeded with `result`, carrying the rest of the chain. */
export function nextInChain(lookup: TaskLookup, envelope: Envelope, result: unknown): FollowUp | undefined {
  const [next, ...rest] = envelope.chain ?? [];
  if (!next) return undefined;
  return followUp(lookup, next, payloadWithResult(next, result), envelope, rest.length > 0 ? { chain: rest } : {});
}

/** A chord's callback, given its members' results in order (in `results` unless the callback names a field). */
export function chordCallback(lookup: TaskLookup, envelope: Envelope, results: readonly unknown[]): FollowUp | undefined {
  const callback = envelope.group?.callback;
  if (!callback) return undefined;
  return followUp(lookup, callback, payloadWithResult({ ...callback, resultAs: callback.resultAs ?? 'results' }, results), envelope);
}

/**
 * When a workflow member ends without success, the tasks waiting on it never run: each
 * is recorded as FAILURE with the member's reason, so its result says why.
 */
export function abandonedByFailure(lookup: TaskLookup, envelope: Envelope, reason: string): TaskOutcomeRow[] {
  const rows: TaskOutcomeRow[] = [];
  const because = `${envelope.task} ${envelope.id} did not succeed: ${reason}`;
  for (const step of envelope.chain ?? []) rows.push(abandoned(lookup, step, `ChainError: ${because}`));
  if (envelope.group?.callback) rows.push(abandoned(lookup, envelope.group.callback, `ChordError: member ${envelope.group.index} of ${envelope.group.size}, ${because}`));
  return rows;
}

function abandoned(lookup: TaskLookup, signature: Signature, error: string): TaskOutcomeRow {
  const task = lookup(signature.task);
  return { id: signature.id, name: task?.name ?? signature.task, queue: task?.queue ?? 'unknown', status: 'FAILURE', error, payload: signature.payload };
}

/** Whether a task's success or failure matters to other tasks. */
export function hasFollowUps(envelope: Envelope): boolean {
  return (envelope.chain?.length ?? 0) > 0 || envelope.group?.callback !== undefined;
}
