import * as z from 'zod';
import { laneName, parseDuration, sqsLimits, tasks, type LaneName, type Priority, type QueueName, type TaskDefinition } from '../catalogue/index.ts';
import { assertMessageFits, newEnvelope, type Envelope, type Signature } from '../envelope/envelope.ts';
import { PermanentError } from '../errors.ts';
import { claimCheckBytes, payloadObjectDays, payloadRefOf, type PayloadRef } from '../results/payloads.ts';
import { tenantField, tenantOf } from '../envelope/tenant.ts';
import { checkEnvelope, parseWireJson } from '../envelope/wire.ts';

export interface SendOptions {
  /** A caller-chosen task id: sending twice with one id runs the task once. */
  readonly id?: string;
  /** Seconds to wait before running (Celery's `countdown`). */
  readonly countdown?: number;
  /** Not before this time (Celery's `eta`); wins over `countdown`. */
  readonly eta?: Date | string;
  /** Revoke instead of running when picked up after this time (Celery's `expires`). */
  readonly expires?: Date | string;
  readonly parentId?: string;
  readonly rootId?: string;
  /** Sent once if the task fails for good, given the failure (Celery's `link_error=`). */
  readonly linkError?: readonly Signature[];
  /** Whom the task runs for, when the catalogue's tenant field does not say (or should not). */
  readonly tenant?: string;
  /** The key of a unique or debounced task, instead of one made from its payload. */
  readonly dedupeKey?: string;
  /** `high` sends to the category's high-priority lane, past its normal backlog. @default the catalogue's, else 'normal' */
  readonly priority?: Priority;
}

/** What a workflow adds to a member's envelope. */
export type WorkflowFields = Pick<Envelope, 'chain' | 'group' | 'linkError'>;

export class UnknownTaskError extends PermanentError {
  override name = 'UnknownTaskError';
}

export class InvalidPayloadError extends PermanentError {
  override name = 'InvalidPayloadError';
}

const byName = new Map<string, TaskDefinition>();
for (const task of Object.values(tasks) as TaskDefinition[]) {
  byName.set(task.name, task);
  if (task.alias) byName.set(task.alias, task);
}

/** The catalogue task for a name or Celery alias. */
export function resolveTask(name: string): TaskDefinition {
  const task = byName.get(name);
  if (!task) throw new UnknownTaskError(`unknown task '${name}'`);
  return task;
}

export interface TaskMessage {
  readonly queue: QueueName;
  /** The lane's queue the message goes to: `queue`, or its high-priority lane. */
  readonly lane: LaneName;
  readonly envelope: Envelope;
  /** SQS `DelaySeconds` (at most 900); a later ETA is honoured by the consumer. */
  readonly delaySeconds: number;
  /** Seconds from now until the ETA (0 when none): beyond 900 a producer may use EventBridge Scheduler. */
  readonly waitSeconds: number;
  readonly body: string;
  /** A payload over 256 KiB, sent by reference: put in the files bucket before the message is sent. */
  readonly largePayload?: { readonly ref: PayloadRef; readonly text: string };
  /** A unique task's send folded into the first of its window: this task, which is what the caller gets, and nothing was sent. */
  readonly foldedInto?: string;
}

/** Checks the payload against the task's schema and builds the message, without sending it. */
export function buildTaskMessage(
  name: string,
  payload: unknown,
  options: SendOptions = {},
  now = new Date(),
  resolve: (name: string) => TaskDefinition = resolveTask,
  workflow: Partial<WorkflowFields> = {},
  /** Whether a payload over 256 KiB may travel by reference (the producer has a files bucket). */
  byReference = false,
): TaskMessage {
  const task = resolve(name);
  const checked = task.payload.safeParse(payload);
  if (!checked.success) throw new InvalidPayloadError(`invalid payload for ${task.name}: ${z.prettifyError(checked.error)}`);
  if (options.countdown !== undefined && !(Number.isFinite(options.countdown) && options.countdown >= 0)) {
    throw new InvalidPayloadError('countdown must be a number of seconds ≥ 0');
  }
  const priority = options.priority ?? task.priority ?? 'normal';
  if (priority !== 'normal' && priority !== 'high') throw new InvalidPayloadError(`priority is normal or high, not ${String(priority)}`);
  const eta = options.eta !== undefined ? new Date(options.eta) : options.countdown ? new Date(now.getTime() + options.countdown * 1000) : undefined;
  if (eta && Number.isNaN(eta.getTime())) throw new InvalidPayloadError('eta is not a valid time');
  const expires = options.expires !== undefined ? new Date(options.expires) : undefined;
  if (expires && Number.isNaN(expires.getTime())) throw new InvalidPayloadError('expires is not a valid time');
  const envelope = newEnvelope(task.name, payload as Record<string, unknown>, {
    ...(options.id ? { id: options.id } : {}),
    ...(eta && eta > now ? { eta: eta.toISOString() } : {}),
    ...(expires ? { expires: expires.toISOString() } : {}),
    ...(options.parentId ? { parentId: options.parentId } : {}),
    ...(options.rootId ? { rootId: options.rootId } : {}),
    ...tenantField(tenantOf(task.tenant, payload as Record<string, unknown>, options.tenant)),
    ...(options.dedupeKey !== undefined ? { dedupeKey: options.dedupeKey } : {}),
    ...(workflow.chain?.length ? { chain: workflow.chain } : {}),
    ...(workflow.group ? { group: workflow.group } : {}),
    ...(workflow.linkError?.length || options.linkError?.length ? { linkError: [...(workflow.linkError ?? []), ...(options.linkError ?? [])] } : {}),
  });
  // Serialised apart only for a producer that may send it by reference.
  const payloadText = byReference ? JSON.stringify(payload) : '';
  const ref = byReference && Buffer.byteLength(payloadText) > claimCheckBytes ? payloadRefOf(envelope.id, payloadText) : undefined;
  const sent: Envelope = ref ? { ...envelope, payload: {}, payloadRef: ref } : envelope;
  const body = JSON.stringify(sent);
  assertMessageFits(body);
  // What the consumer would refuse is refused here, before a handle is given out that could never resolve.
  try {
    parseWireJson(body);
    if (ref) parseWireJson(payloadText);
  } catch (error) {
    throw new InvalidPayloadError(`the message would be refused: ${(error as Error).message}`);
  }
  const accepted = checkEnvelope(sent);
  if (!accepted.ok) throw new InvalidPayloadError(accepted.reason);
  // A debounced send arrives when its quiet window ends (a longer window the consumer waits out); it looks then whether a later one came.
  const quietSeconds = task.debounce === undefined ? 0 : Math.ceil(parseDuration(task.debounce)!);
  const waitSeconds = eta ? Math.max(0, Math.ceil((eta.getTime() - now.getTime()) / 1000)) : 0;
  // The object must outlive the wait, with time left to run and retry.
  if (ref && waitSeconds > (payloadObjectDays - 7) * 86_400) throw new InvalidPayloadError(`a payload over ${claimCheckBytes / 1024} KiB is kept ${payloadObjectDays} days, and this task's ETA is ${Math.round(waitSeconds / 86_400)} days away: send it later, or send a smaller payload`);
  return { queue: task.queue as QueueName, lane: laneName(task.queue as QueueName, priority), envelope: sent, delaySeconds: Math.min(sqsLimits.maxDelaySeconds, Math.max(waitSeconds, quietSeconds)), waitSeconds, body, ...(ref ? { largePayload: { ref, text: payloadText } } : {}) };
}
