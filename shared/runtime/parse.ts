import type { SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { base64KombuMessage, celeryToEnvelope, isKombuMessage } from '../envelope/celery.ts';
import { envelopeV1, taskId, type Envelope } from '../envelope/envelope.ts';
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
}

/** Resolves names and aliases to this consumer's tasks, and tells a misrouted task from an unknown one. */
export class TaskDirectory {
  readonly #implementations = new Map<string, TaskImplementation>();
  readonly #known = new Map<string, TaskDefinition>();
  readonly #queue: string;

  constructor(queue: string, implementations: readonly TaskImplementation[], known: readonly TaskDefinition[]) {
    this.#queue = queue;
    for (const definition of [...known, ...implementations.map((i) => i.definition)]) {
      this.#known.set(definition.name, definition);
      if (definition.alias) this.#known.set(definition.alias, definition);
    }
    for (const implementation of implementations) {
      this.#implementations.set(implementation.definition.name, implementation);
    }
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

const looseEnvelope = z.looseObject({ id: taskId.optional().catch(undefined), task: z.string().optional().catch(undefined), payload: z.unknown().optional() });

/** Parses once at the edge: everything after works on typed values. */
export function parseMessage(record: SQSRecord, directory: TaskDirectory): ParsedMessage | RejectedMessage {
  let json: unknown;
  try {
    json = parseJson(record.body);
  } catch (error) {
    json = base64KombuMessage(record.body, parseJson);
    if (json === undefined) return reject(record, {}, `invalid JSON: ${(error as Error).message}`);
  }
  if (isKombuMessage(json)) {
    // A Celery producer during a migration: mapped to an envelope, then checked like any other.
    const celery = celeryToEnvelope(json, { sentAt: sentAt(record), parseJson, payloadSchema: (task) => payloadSchema(directory, task) });
    if (!celery.ok) return reject(record, celery.known, `invalid Celery message: ${celery.reason}`);
    json = celery.envelope;
  }
  const loose = looseEnvelope.safeParse(json);
  const known = loose.success ? loose.data : {};
  const envelope = envelopeV1.safeParse(json);
  if (!envelope.success) return reject(record, known, `invalid envelope: ${summarise(envelope.error)}`);
  const outOfRange = timeFields.find((field) => envelope.data[field] !== undefined && !storableTime(envelope.data[field]));
  if (outOfRange) return reject(record, known, `invalid envelope: ${outOfRange}: outside the years 0001–9999 UTC`);

  const implementation = directory.resolve(envelope.data.task);
  if (typeof implementation === 'string') return reject(record, known, implementation);

  const payload = implementation.definition.payload.safeParse(envelope.data.payload);
  if (!payload.success) {
    return reject(record, known, `invalid payload for ${implementation.definition.name}: ${summarise(payload.error)}`);
  }
  return { ok: true, envelope: envelope.data, implementation, payload: payload.data };
}

const timeFields = ['createdAt', 'eta', 'expires'] as const;
const firstStorable = Date.UTC(1, 0, 1);
const lastStorable = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** A time PostgreSQL can store and `toISOString` writes with four digits (there is no year 0). */
function storableTime(value: string): boolean {
  const ms = Date.parse(value);
  return ms >= firstStorable && ms <= lastStorable;
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

/** Deeper JSON would overflow the stack of the validators (zod recurses); real payloads stay far below. */
const maxJsonDepth = 256;

/**
 * JSON.parse, refusing what would break a batch later: `__proto__` keys (copied into a
 * typed object they would replace its prototype), nesting beyond `maxJsonDepth`, and
 * strings PostgreSQL cannot store in jsonb or text (NUL, lone UTF-16 surrogates), which
 * would fail the statement recording the whole batch. The reviver (slower) runs only when
 * such a key or string could be present, escaped or not.
 */
function parseJson(body: string): unknown {
  if (jsonDepth(body) > maxJsonDepth) throw new SyntaxError(`nested deeper than ${maxJsonDepth} levels`);
  if (!body.includes('__proto__') && !body.includes('\\u') && body.isWellFormed()) return JSON.parse(body);
  return JSON.parse(body, (key, value: unknown) => {
    if (key === '__proto__') throw new SyntaxError('the key "__proto__" is not allowed');
    for (const text of typeof value === 'string' ? [key, value] : [key]) {
      if (text.includes('\0')) throw new SyntaxError('a string holds a NUL character (\\u0000), which PostgreSQL cannot store');
      if (!text.isWellFormed()) throw new SyntaxError('a string holds a lone UTF-16 surrogate, which PostgreSQL cannot store');
    }
    return value;
  });
}

/** The deepest nesting of arrays and objects in JSON text, brackets inside strings not counted. */
function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

function reject(record: SQSRecord, known: { id?: string | undefined; task?: string | undefined; payload?: unknown }, reason: string): RejectedMessage {
  return {
    ok: false,
    id: known.id ?? record.messageId,
    task: known.task?.slice(0, 200) ?? 'unknown',
    payload: isJsonObject(known.payload) ? known.payload : null,
    reason,
  };
}

function isJsonObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** zod's issues as one line: `path: message; …`, bounded so a huge input cannot flood a row. */
function summarise(error: z.ZodError): string {
  const text = error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
  return error.issues.length > 5 ? `${text}; … ${error.issues.length - 5} more` : text;
}
