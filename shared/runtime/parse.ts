import type { SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { base64KombuMessage, celeryToEnvelope, isKombuMessage } from '../envelope/celery.ts';
import { taskId, type Envelope } from '../envelope/envelope.ts';
import { tenantOf } from '../envelope/tenant.ts';
import { checkEnvelope, parseWireJson as parseJson, summarise } from '../envelope/wire.ts';
import { chordUnlockTask } from './chord-unlock.ts';
import type { TaskImplementation } from './task.ts';
import type { TaskDefinition } from '../catalogue/index.ts';

/** A message ready to run: its envelope and payload checked, its task found. */
export interface ParsedMessage {
  readonly ok: true;
  readonly envelope: Envelope;
  readonly implementation: TaskImplementation;
  readonly payload: unknown;
}

/** A message that can never run; recorded under `id` and dead-lettered at once. */
export interface RejectedMessage {
  readonly ok: false;
  /** The envelope's id when it has a usable one, else the SQS message id. */
  readonly id: string;
  readonly task: string;
  readonly payload: unknown;
  readonly reason: string;
  /** Whom it was sent for, when that can be told: its row keeps it, as a claim would. */
  readonly tenant?: string;
}

/** Resolves names and aliases to this consumer's tasks, and tells a misrouted task from an unknown one. */
export class TaskDirectory {
  readonly #implementations = new Map<string, TaskImplementation>();
  readonly #known = new Map<string, TaskDefinition>();
  readonly #queue: string;

  constructor(queue: string, implementations: readonly TaskImplementation[], known: readonly TaskDefinition[]) {
    this.#queue = queue;
    // Every queue runs the chord unlocks Celery sends it (envelope/celery-canvas.ts).
    implementations = [...implementations, chordUnlockTask(queue)];
    for (const definition of [...known, ...implementations.map((i) => i.definition)]) {
      this.#known.set(definition.name, definition);
      if (definition.alias) this.#known.set(definition.alias, definition);
    }
    for (const implementation of implementations) {
      this.#implementations.set(implementation.definition.name, implementation);
    }
  }

  /** The queue whose tasks this directory runs. */
  get queue(): string {
    return this.#queue;
  }

  /** Any known task by name or alias, whichever queue runs it (a workflow's next step may run elsewhere). */
  definition(name: string): TaskDefinition | undefined {
    return this.#known.get(name);
  }

  /** The implementation for a name or alias, or why there is none. */
  resolve(name: string): TaskImplementation | string {
    const definition = this.#known.get(name);
    if (!definition) return `unknown task '${name}'`;
    if (definition.queue !== this.#queue) {
      return `task '${definition.name}' belongs to queue '${definition.queue}', not '${this.#queue}'`;
    }
    return this.#implementations.get(definition.name) ?? `no code is deployed for task '${definition.name}' on queue '${this.#queue}'`;
  }
}

const looseEnvelope = z.looseObject({ id: taskId.optional().catch(undefined), task: z.string().optional().catch(undefined), payload: z.unknown().optional(), tenant: z.string().optional().catch(undefined) });

/** Parses once at the edge: everything after works on typed values. `hydrated` is the body already parsed, its payload read from the bucket. */
export function parseMessage(record: SQSRecord, directory: TaskDirectory, hydrated?: unknown): ParsedMessage | RejectedMessage {
  let json: unknown = hydrated;
  if (json === undefined) {
    try {
      json = parseJson(record.body);
    } catch (error) {
      json = base64KombuMessage(record.body, parseJson);
      if (json === undefined) return reject(record, {}, `invalid JSON: ${(error as Error).message}`);
    }
  }
  if (isKombuMessage(json)) {
    // A Celery producer during a migration: mapped to an envelope, then checked like any other.
    const celery = celeryToEnvelope(json, {
      sentAt: sentAt(record),
      parseJson,
      queue: directory.queue,
      payloadSchema: (task) => payloadSchema(directory, task),
      schemaOf: (task) => directory.definition(task)?.payload ?? `unknown task '${task}'`,
    });
    if (!celery.ok) return reject(record, celery.known, `invalid Celery message: ${celery.reason}`);
    json = celery.envelope;
  }
  const loose = looseEnvelope.safeParse(json);
  const known = loose.success ? loose.data : {};
  const envelope = checkEnvelope(json);
  if (!envelope.ok) return reject(record, known, envelope.reason);

  const implementation = directory.resolve(envelope.envelope.task);
  if (typeof implementation === 'string') return reject(record, known, implementation);

  const payload = implementation.definition.payload.safeParse(envelope.envelope.payload);
  if (!payload.success) {
    const tenant = tenantOf(implementation.definition.tenant, envelope.envelope.payload, envelope.envelope.tenant);
    return reject(record, { ...known, tenant }, `invalid payload for ${implementation.definition.name}: ${summarise(payload.error)}`);
  }
  return { ok: true, envelope: envelope.envelope, implementation, payload: payload.data };
}

/** When SQS received the message: a Celery message's `createdAt`. */
function sentAt(record: SQSRecord): string {
  const ms = Number(record.attributes.SentTimestamp);
  return new Date(Number.isFinite(ms) && ms > 0 ? ms : Date.now()).toISOString();
}

function payloadSchema(directory: TaskDirectory, task: string): z.ZodType | string {
  const implementation = directory.resolve(task);
  return typeof implementation === 'string' ? implementation : implementation.definition.payload;
}

export function reject(record: SQSRecord, known: { id?: string | undefined; task?: string | undefined; payload?: unknown; tenant?: string | undefined }, reason: string): RejectedMessage {
  const tenant = tenantOf(undefined, {}, known.tenant);
  return {
    ok: false,
    id: known.id ?? record.messageId,
    task: known.task?.slice(0, 200) ?? 'unknown',
    payload: isJsonObject(known.payload) ? known.payload : null,
    reason,
    ...(tenant ? { tenant } : {}),
  };
}

function isJsonObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
