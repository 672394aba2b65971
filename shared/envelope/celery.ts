// Written by hand: no JavaScript library reads kombu's SQS messages; Celery's own layout is checked against fixtures it produced.
import * as z from 'zod';
import { bindArguments, check, Unmappable, type SchemaOf } from './celery-args.ts';
import { chainOf, derivedIds, errbacksOf, linksOf, unlockOfChord, type CanvasContext } from './celery-canvas.ts';
import { taskId, type Envelope } from './envelope.ts';

/** What the caller knows about a message it rejects: the FAILURE row is filed under these. */
export interface CeleryKnown {
  readonly id?: string;
  readonly task?: string;
  readonly payload?: unknown;
}

export type CeleryMapping =
  | { readonly ok: true; readonly envelope: Envelope }
  | { readonly ok: false; readonly reason: string; readonly known: CeleryKnown };

export interface CeleryContext {
  /** When SQS received the message (Celery sends no creation time): the envelope's `createdAt`. */
  readonly sentAt: string;
  /** The JSON parser of the envelope path, so both refuse the same keys. */
  readonly parseJson: (text: string) => unknown;
  /** The task's payload schema, or why there is none: positional args are mapped onto its fields. */
  readonly payloadSchema: SchemaOf;
  /** Any task's payload schema, whichever queue runs it: for the tasks of a workflow. */
  readonly schemaOf: SchemaOf;
  /** The queue consuming the message: a chord's unlock runs there. */
  readonly queue: string;
}

/** kombu's message: the SQS body itself, or base64 of it (kombu's default, `sqs_base64_encoding`). */
const kombuMessage = z.looseObject({
  body: z.string(),
  'content-type': z.string(),
  'content-encoding': z.string().optional(),
  headers: z.record(z.string(), z.unknown()),
  properties: z.looseObject({ body_encoding: z.string().optional() }),
});
type KombuMessage = z.infer<typeof kombuMessage>;

const ids = z.string().nullish();
const signatures = z.unknown().nullish();
const timelimit = z.tuple([z.number().nullable(), z.number().nullable()]).nullish();
const kwargs = z.record(z.string(), z.json());

/** Protocol 2: the task's fields in the headers, `[args, kwargs, embed]` in the body. */
const protocol2Headers = z.looseObject({
  task: z.string(), id: z.string(), eta: z.string().nullish(), expires: z.string().nullish(),
  group: ids, timelimit, root_id: ids, parent_id: ids, compression: z.string().optional(), traceparent: z.string().optional(),
});
const protocol2Body = z.tuple([
  z.array(z.json()),
  kwargs,
  z.looseObject({ callbacks: signatures, errbacks: signatures, chain: signatures, chord: signatures }).nullable(),
]);
/** Protocol 1: everything in the body, `utc` telling how to read a naive eta. */
const protocol1Body = z.looseObject({
  task: z.string(), id: z.string(), args: z.array(z.json()), kwargs, eta: z.string().nullish(), expires: z.string().nullish(), utc: z.boolean().optional(),
  group: ids, taskset: ids, timelimit, callbacks: signatures, errbacks: signatures, chord: signatures,
});

type Json = z.infer<ReturnType<typeof z.json>>;

/** The parts of a message that start other work. */
interface Workflow {
  readonly where: string;
  readonly callbacks?: unknown;
  readonly errbacks?: unknown;
  readonly chain?: unknown;
  readonly chord?: unknown;
  readonly group?: string | null | undefined;
  readonly timelimit?: readonly (number | null)[] | null | undefined;
}

/** One Celery task message, whichever protocol carried it. */
interface CeleryTask {
  readonly task: string;
  readonly id: string;
  readonly args: readonly Json[];
  readonly kwargs: Record<string, Json>;
  readonly eta?: string | null | undefined;
  readonly expires?: string | null | undefined;
  /** Protocol 1's `utc`: whether a naive eta or expires is UTC. Protocol 2 always writes UTC or an offset. */
  readonly utc: boolean;
  readonly rootId?: string | null | undefined;
  readonly parentId?: string | null | undefined;
  readonly traceparent?: string | undefined;
  readonly workflow: Workflow;
}

/** A JSON value is a kombu message when it has kombu's keys; an envelope never has them. */
export function isKombuMessage(json: unknown): boolean {
  return typeof json === 'object' && json !== null && !Array.isArray(json) && ['body', 'content-type', 'headers', 'properties'].every((key) => key in json);
}

/** The kombu message in a body that is base64 of one (kombu's default), else undefined. */
export function base64KombuMessage(body: string, parseJson: (text: string) => unknown): unknown {
  if (body.length % 4 !== 0 || !/^eyJ[A-Za-z0-9+/]*={0,2}$/.test(body)) return undefined;
  try {
    const json = parseJson(Buffer.from(body, 'base64').toString('utf8'));
    return isKombuMessage(json) ? json : undefined;
  } catch {
    return undefined;
  }
}

/** Maps a Celery 5 message (protocol 2, or 1) to envelope v1, or says precisely why it cannot. */
export function celeryToEnvelope(json: unknown, context: CeleryContext): CeleryMapping {
  let known: CeleryKnown = {};
  try {
    const message = check(kombuMessage, json, 'message');
    known = knownFrom(message.headers.task, message.headers.id, undefined);
    const task = readTask(message, context.parseJson);
    known = knownFrom(task.task, task.id, task.kwargs);
    refuseTimeLimits(task.workflow);
    return { ok: true, envelope: toEnvelope(task, context) };
  } catch (error) {
    if (error instanceof Unmappable) return { ok: false, reason: error.message, known };
    throw error;
  }
}

function knownFrom(task: unknown, id: unknown, payload: unknown): CeleryKnown {
  return {
    ...(typeof task === 'string' ? { task } : {}),
    ...(taskId.safeParse(id).success ? { id: id as string } : {}),
    ...(payload === undefined ? {} : { payload }),
  };
}

function readTask(message: KombuMessage, parseJson: (text: string) => unknown): CeleryTask {
  const type = message['content-type'];
  if (type !== 'application/json') {
    const name = ({ 'application/x-python-serialize': 'pickle', 'application/x-yaml': 'YAML', 'application/x-msgpack': 'msgpack' } as Record<string, string>)[type];
    throw new Unmappable(`content-type '${type}'${name ? ` (${name})` : ''} cannot be read here: send with serializer='json'`);
  }
  if (message.headers.compression !== undefined) {
    throw new Unmappable(`headers.compression: compressed bodies (${String(message.headers.compression)}) are not supported: send without compression`);
  }
  const encoding = message['content-encoding'] ?? 'utf-8';
  if (encoding.toLowerCase() !== 'utf-8') throw new Unmappable(`content-encoding '${encoding}' is not supported: JSON bodies are utf-8`);
  const bodyEncoding = message.properties.body_encoding;
  if (bodyEncoding !== undefined && bodyEncoding !== 'base64') throw new Unmappable(`properties.body_encoding '${bodyEncoding}' is not supported`);
  const text = bodyEncoding === 'base64' ? Buffer.from(message.body, 'base64').toString('utf8') : message.body;
  let body: unknown;
  try {
    body = parseJson(text);
  } catch (error) {
    throw new Unmappable(`body: not JSON: ${(error as Error).message}`);
  }
  return 'task' in message.headers ? protocol2(message.headers, body) : protocol1(body);
}

function protocol2(rawHeaders: Record<string, unknown>, rawBody: unknown): CeleryTask {
  const headers = check(protocol2Headers, rawHeaders, 'headers');
  const [args, kwargs, embed] = check(protocol2Body, rawBody, 'body');
  return {
    task: headers.task, id: headers.id, args, kwargs, eta: headers.eta, expires: headers.expires, utc: true,
    rootId: headers.root_id, parentId: headers.parent_id, traceparent: headers.traceparent,
    workflow: { where: 'embed', ...embed, group: headers.group, timelimit: headers.timelimit },
  };
}

function protocol1(rawBody: unknown): CeleryTask {
  const body = check(protocol1Body, rawBody, 'body');
  return {
    task: body.task, id: body.id, args: body.args, kwargs: body.kwargs, eta: body.eta, expires: body.expires, utc: body.utc ?? true,
    workflow: { where: 'body', callbacks: body.callbacks, errbacks: body.errbacks, chord: body.chord, group: body.group ?? body.taskset, timelimit: body.timelimit },
  };
}

/** Per-call time limits have no equivalent: the catalogue's apply to every call. */
function refuseTimeLimits({ timelimit }: Workflow): void {
  if (timelimit?.some((value) => value !== null && value !== undefined)) {
    throw new Unmappable(`timelimit: per-call time limits [${timelimit.join(', ')}] are not supported; the catalogue's limits apply`);
  }
}

/**
 * What the message starts after its task, as Celery would: the rest of its chain, its
 * `link=` callbacks, its `link_error=` errbacks. Group membership is left to Celery's
 * database backend: a plain group's results are read member by member, and a chord's
 * header members are joined by the `celery.chord_unlock` message sent beside them.
 */
function workflowFields({ where, ...fields }: Workflow, canvas: CanvasContext): Partial<Envelope> {
  const present = (value: unknown) => value !== null && value !== undefined && !(Array.isArray(value) && value.length === 0);
  return {
    ...(present(fields.chain) ? { chain: [...chainOf(fields.chain, canvas)] } : {}),
    ...(present(fields.callbacks) ? { link: linksOf(fields.callbacks, canvas, `${where}.callbacks`).map((flow) => [...flow]) } : {}),
    ...(present(fields.errbacks) ? { linkError: errbacksOf(fields.errbacks, canvas, `${where}.errbacks`) } : {}),
  };
}

function toEnvelope(task: CeleryTask, context: CeleryContext): Envelope {
  const taskIdentity = id(task.id, 'id');
  const optional = {
    eta: time(task.eta, 'eta', task.utc),
    expires: time(task.expires, 'expires', task.utc),
    parentId: task.parentId ? id(task.parentId, 'parent_id') : undefined,
    rootId: task.rootId ? id(task.rootId, 'root_id') : undefined,
    traceparent: task.traceparent,
  };
  const canvas: CanvasContext = { schemaOf: context.schemaOf, idFor: derivedIds(taskIdentity) };
  const fields = { ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined)), ...workflowFields(task.workflow, canvas) };
  if (task.task === 'celery.chord_unlock') {
    const unlock = unlockOfChord(task.args, task.kwargs, canvas, context.queue);
    return { v: 1, id: taskIdentity, task: unlock.task, payload: unlock.payload, createdAt: context.sentAt, ...fields, chain: [...unlock.chain], ...(unlock.linkError.length > 0 ? { linkError: unlock.linkError } : {}) };
  }
  return {
    v: 1,
    id: taskIdentity,
    task: task.task,
    payload: bindArguments(task.task, task.args, task.kwargs, context.payloadSchema) as Envelope['payload'],
    createdAt: context.sentAt,
    ...fields,
  };
}

function id(value: string, field: string): string {
  const parsed = taskId.safeParse(value);
  if (!parsed.success) throw new Unmappable(`${field}: '${value.slice(0, 200)}' is not a task id here (1–128 of A-Z a-z 0-9 _ . : -, starting with a letter or digit)`);
  return parsed.data;
}

/** Python's `isoformat()`, with or without an offset; Celery reads a naive one as UTC when `utc` is set. */
function time(value: string | null | undefined, field: string, utc: boolean): string | undefined {
  if (value === null || value === undefined) return undefined;
  const match = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?$/.exec(value);
  if (!match) throw new Unmappable(`${field}: '${value.slice(0, 100)}' is not an ISO 8601 date-time`);
  if (!match[1] && !utc) throw new Unmappable(`${field}: '${value}' has no offset and the message says utc=false, so its time zone is unknown`);
  const ms = Date.parse(match[1] ? value : `${value}Z`);
  if (Number.isNaN(ms)) throw new Unmappable(`${field}: '${value}' is not a valid date-time`);
  return new Date(ms).toISOString();
}

