import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { sqsLimits } from '../catalogue/index.ts';
import { flow, flowProblem, membership, signature, callbackFlow } from './flow.ts';
import { taskId } from './task-id.ts';
import { tenantId } from './tenant.ts';

export { taskId };
export { signature, type Signature } from './flow.ts';

/** Where a payload too large for its message is kept, and how to check it. */
export const payloadRef = z.strictObject({
  key: z.string().regex(/^task-payloads\/[!-~]{1,900}$/).describe('the object in the stage\'s files bucket holding the payload as JSON'),
  bytes: z.int().positive().max(64 * 1024 * 1024),
  sha256: z.string().regex(/^[0-9a-f]{64}$/).describe("the hex SHA-256 of the object's bytes"),
});

/** Envelope v1: the SQS message body every producer sends. Unknown fields are rejected. */
export const envelopeV1 = z
  .strictObject({
    v: z.literal(1),
    id: taskId,
    task: z.string().min(1).max(200).describe('catalogue name (ai.process_ai_request) or Celery alias'),
    payload: z.record(z.string(), z.json()).describe("the task's arguments; each task has its own schema"),
    createdAt: z.iso.datetime({ offset: true }),
    eta: z.iso.datetime({ offset: true }).optional().describe('do not run before this time'),
    expires: z.iso.datetime({ offset: true }).optional().describe('revoke instead of running after this time'),
    parentId: taskId.optional().describe('the task that enqueued this one'),
    dedupeKey: z.string().min(1).max(200).optional().describe("the key of a task that is unique or debounced (the catalogue's `unique`, `debounce`), instead of one made from its payload"),
    tenant: tenantId.optional().describe("whom the task runs for (a user, a customer): also the message's MessageGroupId, so SQS fair queues keep one tenant's backlog from delaying the others"),
    rootId: taskId.optional().describe('the first task of the workflow'),
    traceparent: z
      .string()
      .regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/)
      .optional()
      .describe('W3C trace context of the producer'),
    chain: flow.optional().describe('what runs after this task succeeds: tasks in order, each given the result before it, and groups (a group followed by more is a chord)'),
    group: membership.optional().describe('this task is member `index` of a group of `size` (when a chain follows it, the last task of that chain is)'),
    linkError: z
      .array(signature)
      .min(1)
      .max(10)
      .optional()
      .describe("tasks sent once if this one fails for good, given the failure (Celery's `link_error`)"),
    link: z.array(flow).min(1).max(10).optional().describe("flows started with this task's result when it succeeds, beside its chain (Celery's `link`)"),
    payloadRef: payloadRef
      .optional()
      .describe('the payload, kept in the files bucket because it was too large for the message (the claim-check pattern): it replaces `payload`, which is then {}. The consumer reads it and checks its size and digest before the task runs, and deletes it once the task has succeeded or been revoked; a lifecycle rule expires what remains'),
  })
  .meta({ id: 'EnvelopeV1', title: 'DataCleanup Pro task envelope, version 1' });

export type Envelope = z.infer<typeof envelopeV1>;

/**
 * Why an envelope's workflow cannot run, or undefined: a membership out of range, or a
 * group that would end a group member's flow. Checked outside the schema, and only for
 * envelopes with a workflow, since a refinement costs every parse.
 */
export function workflowProblem(envelope: Envelope): string | undefined {
  if (!envelope.chain && !envelope.group) return undefined;
  return (envelope.chain && flowProblem(envelope.chain, envelope.group !== undefined)) ?? membershipProblem(envelope.group);
}

function membershipProblem(group: z.infer<typeof membership> | undefined): string | undefined {
  for (let current = group; current; current = current.parent) {
    if (current.index >= current.size) return `group: index ${current.index} must be below size ${current.size}`;
    const callback = callbackFlow(current);
    const problem = callback && flowProblem(callback, current.parent !== undefined, 'group.callback');
    if (problem) return problem;
  }
  return undefined;
}

export class MessageTooLargeError extends Error {
  override name = 'MessageTooLargeError';
}

/** A message attribute as the SDK carries it: a string (String, Number) or bytes (Binary). */
export interface AttributeValue {
  readonly DataType?: string | undefined;
  readonly StringValue?: string | undefined;
  readonly BinaryValue?: Uint8Array | undefined;
}

/**
 * Bytes SQS counts against its 1 MiB limit: the body plus every attribute's name, type and
 * value ("all parts of the message attribute … are part of the message size restriction":
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_MessageAttributeValue.html).
 * Whether a Binary value counts as its bytes or as its base64 text is not documented: it is
 * counted as the base64 text, the larger, so no message is judged to fit that does not.
 */
export function messageBytes(body: string, attributes: Readonly<Record<string, AttributeValue>> = {}): number {
  let bytes = Buffer.byteLength(body, 'utf8');
  for (const [name, value] of Object.entries(attributes)) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? '') + Buffer.byteLength(value.StringValue ?? '') + Math.ceil((value.BinaryValue?.byteLength ?? 0) / 3) * 4;
  }
  return bytes;
}

/** Throws when a message would exceed SQS's 1 MiB limit; large inputs belong in S3. */
export function assertMessageFits(body: string, attributes?: Readonly<Record<string, AttributeValue>>): void {
  const bytes = messageBytes(body, attributes);
  if (bytes > sqsLimits.maxMessageBytes) {
    throw new MessageTooLargeError(
      `message is ${bytes} bytes, over SQS's ${sqsLimits.maxMessageBytes}-byte limit: put large inputs in S3 and send their key`,
    );
  }
}

/** A new envelope for a task, stamped now with a fresh id unless one is given. */
export function newEnvelope(task: string, payload: Record<string, unknown>, fields: Partial<Omit<Envelope, 'v' | 'task' | 'payload'>> = {}): Envelope {
  return { v: 1, id: fields.id ?? randomUUID(), task, payload: payload as Envelope['payload'], createdAt: new Date().toISOString(), ...fields };
}
