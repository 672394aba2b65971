import * as z from 'zod';
import { sqsLimits, type Priority, type QueueName, type TaskDefinition } from '../catalogue/index.ts';
import { messageBytes, newEnvelope, type Envelope, type Signature } from '../envelope/envelope.ts';
import { callbackFlow, starts, type Flow, type Membership } from '../envelope/flow.ts';
import { tenantField, tenantOf } from '../envelope/tenant.ts';
import { claimCheckBytes, payloadRefOf, type PayloadRef } from '../results/payloads.ts';

/** A message a finished task sends on: a chain's next step, a chord's callback, an error callback. */
export interface FollowUp {
  readonly queue: QueueName;
  /** The task's catalogue priority; a follow-up of a high-priority message goes to the high lane whatever this says. */
  readonly priority: Priority;
  readonly envelope: Envelope;
  readonly body: string;
  /**
   * A payload over 256 KiB (a chord's gathered results, a large result passed on): `body`
   * refers to it, and it is put in the files bucket before the message is sent; `inline`
   * is the message with the payload in it, for a consumer without a bucket.
   */
  readonly largePayload?: { readonly ref: PayloadRef; readonly text: string; readonly inline: string };
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
export function followUp(lookup: TaskLookup, signature: Signature, payload: Record<string, unknown>, parent: Envelope, fields: Pick<Partial<Envelope>, 'chain' | 'group' | 'linkError'> = {}): FollowUp {
  const task = lookup(signature.task);
  if (!task) throw new Error(`unknown task '${signature.task}'`);
  const checked = task.payload.safeParse(payload);
  if (!checked.success) throw new Error(`the payload does not fit ${task.name}: ${z.prettifyError(checked.error).replaceAll('\n', ' ')}`);
  const envelope = newEnvelope(task.name, payload, {
    id: signature.id,
    parentId: parent.id,
    rootId: parent.rootId ?? parent.id,
    ...(parent.traceparent ? { traceparent: parent.traceparent } : {}),
    // A step runs for the tenant its own payload names, else for its parent's: a workflow stays in its tenant's group.
    ...tenantField(tenantOf(task.tenant, payload) ?? parent.tenant),
    ...fields,
  });
  const inline = JSON.stringify(envelope);
  // A message this small holds a payload this small: most follow-ups serialise their payload once.
  const payloadText = Buffer.byteLength(inline) <= claimCheckBytes ? undefined : JSON.stringify(payload);
  if (payloadText === undefined || Buffer.byteLength(payloadText) <= claimCheckBytes) return within({ queue: task.queue as QueueName, priority: task.priority ?? 'normal', envelope, body: inline });
  const ref = payloadRefOf(envelope.id, payloadText);
  const byReference: Envelope = { ...envelope, payload: {}, payloadRef: ref };
  return within({ queue: task.queue as QueueName, priority: task.priority ?? 'normal', envelope: byReference, body: JSON.stringify(byReference), largePayload: { ref, text: payloadText, inline } });
}

/** A follow-up whose message fits SQS's limit; one that cannot is a workflow too large to send. */
function within(message: FollowUp): FollowUp {
  const bytes = messageBytes(message.body);
  if (bytes > sqsLimits.maxMessageBytes) throw new Error(`the message would be ${bytes} bytes, over SQS's limit, even with its payload in the files bucket: the workflow it carries is too large`);
  return message;
}

/** What a flow's first tasks are given: the result before them, in `as` when the signature names no field. */
interface Input {
  readonly result: unknown;
  readonly as?: string;
}

/** The messages that start `steps`, each carrying the rest of its flow and its group. */
export function launch(lookup: TaskLookup, steps: Flow, parent: Envelope, input: Input, group?: Membership): FollowUp[] {
  return starts(steps, group).map((start) => {
    const { signature } = start;
    const given = input.as && !signature.resultAs ? { ...signature, resultAs: input.as } : signature;
    return followUp(lookup, signature, payloadWithResult(given, input.result), parent, {
      ...(start.chain ? { chain: [...start.chain] } : {}),
      ...(start.group ? { group: start.group } : {}),
      ...(signature.linkError ? { linkError: signature.linkError } : {}),
    });
  });
}

/** What `envelope`'s success with `result` starts: the rest of its chain (its group passed on to it) and its `link` flows. */
export function afterSuccess(lookup: TaskLookup, envelope: Envelope, result: unknown): FollowUp[] {
  return [
    ...(envelope.chain ? launch(lookup, envelope.chain, envelope, { result }, envelope.group) : []),
    ...(envelope.link ?? []).flatMap((flow) => launch(lookup, flow, envelope, { result })),
  ];
}

/** The group whose count this task's success adds to: only the task that ends a member's flow counts. */
export function countedGroup(envelope: Envelope): Membership | undefined {
  return envelope.chain?.length ? undefined : envelope.group;
}

/** A chord's callback flow, given its members' results in order (in `results` unless the callback names a field). */
export function chordCallback(lookup: TaskLookup, envelope: Envelope, results: readonly unknown[]): FollowUp[] {
  const group = countedGroup(envelope);
  const callback = group && callbackFlow(group);
  if (!group || !callback) return [];
  return launch(lookup, callback, envelope, { result: results, as: 'results' }, group.parent);
}
/** Whether a task's success or failure matters to other tasks. */
export function hasFollowUps(envelope: Envelope): boolean {
  return (envelope.chain?.length ?? 0) > 0 || countedGroup(envelope)?.callback !== undefined || (envelope.link?.length ?? 0) > 0;
}
