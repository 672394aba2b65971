import { randomUUID } from 'node:crypto';

/**
 * One kind of message that must never run. `id` is the envelope id its FAILURE row is
 * filed under; without one the row takes the SQS message id.
 */
export interface PoisonKind {
  readonly label: string;
  readonly body: string;
  readonly id?: string;
  readonly reason: RegExp;
}

const task = 'default.fault_work';

/** An envelope as text, so the JSON itself can be broken: `fields` replace or add, `undefined` removes. */
function body(fields: Record<string, unknown>, id = `poison-${randomUUID()}`): { body: string; id: string } {
  const envelope: Record<string, unknown> = { v: 1, id, task, payload: { n: 0, ms: 10 }, createdAt: new Date().toISOString(), ...fields };
  for (const [key, value] of Object.entries(envelope)) if (value === undefined) delete envelope[key];
  return { body: JSON.stringify(envelope), id };
}

/** `marker` in the envelope's JSON replaced by raw JSON text (escapes JSON.stringify would never write). */
function raw(fields: Record<string, unknown>, marker: string, text: string): { body: string; id: string } {
  const made = body(fields);
  return { ...made, body: made.body.replace(JSON.stringify(marker), text) };
}

/** A kombu message as Celery's SQS transport sends it: base64 of its JSON. */
function kombu(contentType: string, payload: string, id: string): string {
  const message = {
    body: Buffer.from(payload).toString('base64'),
    'content-encoding': 'binary',
    'content-type': contentType,
    headers: { lang: 'py', task: 'app.tasks.test_tasks.fault_work', id, retries: 0, timelimit: [null, null], root_id: id, parent_id: null, group: null },
    properties: { correlation_id: id, delivery_mode: 2, delivery_info: { exchange: '', routing_key: 'default' }, priority: 0, body_encoding: 'base64' },
  };
  return Buffer.from(JSON.stringify(message)).toString('base64');
}

/** The poison corpus: every kind of bad message a producer, a proxy or an attacker could put on the queue. */
export function poisonCorpus(): PoisonKind[] {
  const celeryId = randomUUID();
  const nested = 10_000;
  return [
    { label: 'invalid JSON', body: '{"v": 1, "id": "truncated', reason: /^invalid JSON: / },
    // SQS refuses a zero-length body (MessageBody is at least one character): whitespace is the emptiest sendable.
    { label: 'empty (whitespace-only) body', body: ' \n', reason: /^invalid JSON: / },
    { label: 'byte-order mark before the JSON', body: `\uFEFF${body({}).body}`, reason: /^invalid JSON: / },
    { label: 'JSON array', body: '[{"v": 1}]', reason: /^invalid envelope: \(root\): .*object/ },
    { label: 'JSON number', body: '42', reason: /^invalid envelope: \(root\)/ },
    { label: 'JSON string', body: '"default.fault_work"', reason: /^invalid envelope: \(root\)/ },
    { label: 'JSON null', body: 'null', reason: /^invalid envelope: \(root\)/ },
    { ...body({ task: 42, createdAt: true }), label: 'wrong field types', reason: /^invalid envelope: task: .*; createdAt: / },
    { ...body({ createdAt: undefined, payload: undefined }), label: 'missing fields', reason: /^invalid envelope: payload: .*; createdAt: / },
    { ...body({ priority: 9 }), label: 'unknown envelope field', reason: /^invalid envelope: .*priority/ },
    { ...body({ task: 'default.fault_nope' }), label: 'unknown task', reason: /^unknown task 'default.fault_nope'$/ },
    { ...body({ task: 'billing.process_refund', payload: { paymentIntentId: 'pi_1', reason: 'duplicate' } }), label: "another queue's task", reason: /belongs to queue 'billing', not 'default'/ },
    { body: body({}, 'has spaces/and slashes').body, label: 'invalid id characters', reason: /^invalid envelope: id: letters, digits/ },
    {
      ...body({ payload: { n: 1, ms: 10, blob: 'x'.repeat(1_040_000) } }),
      label: 'payload near the 1 MiB limit',
      reason: /^invalid payload for default.fault_work: .*blob/,
    },
    { body: raw({ payload: { n: 1, ms: 10, label: 'NEST' } }, 'NEST', `${'['.repeat(nested)}${']'.repeat(nested)}`).body, label: `JSON nested ${nested} levels deep`, reason: /^invalid JSON: .*nested/ },
    { body: raw({ payload: { n: 1, ms: 10, label: 'LONE' } }, 'LONE', '"a\\ud800b"').body, label: 'lone UTF-16 surrogate (\\ud800)', reason: /^invalid JSON: .*surrogate/ },
    { body: raw({ payload: { n: 1, ms: 10, label: 'NUL' } }, 'NUL', '"a\\u0000b"').body, label: 'NUL character (\\u0000)', reason: /^invalid JSON: .*NUL/ },
    { ...raw({ payload: { n: 1, ms: 'HUGE' } }, 'HUGE', '1e400'), label: 'number beyond float64 (1e400)', reason: /^invalid envelope: payload.ms/ },
    { ...raw({ payload: { n: 'BIG', ms: 10 } }, 'BIG', '18446744073709551616'), label: '2^64 where an int is expected', reason: /^invalid payload for default.fault_work: n: Too big/ },
    { body: raw({ payload: { n: 1, ms: 10, PROTO: { polluted: true } } }, 'PROTO', '"__proto__"').body, label: '__proto__ key', reason: /^invalid JSON: the key "__proto__" is not allowed/ },
    { ...body({ payload: { n: 1, ms: 10, constructor: { prototype: { polluted: true } } } }), label: 'constructor.prototype keys', reason: /^invalid payload for default.fault_work: .*constructor/ },
    { ...body({ createdAt: '2026-02-30T10:00:00Z' }), label: 'impossible createdAt (30 February)', reason: /^invalid envelope: createdAt: / },
    { ...body({ eta: 'tomorrow' }), label: 'eta that is not a date', reason: /^invalid envelope: eta: / },
    { ...body({ createdAt: '0000-01-01T00:00:00Z' }), label: 'createdAt in year 0', reason: /^invalid envelope: createdAt: / },
    { ...body({ v: 2 }), label: 'envelope v: 2', reason: /^invalid envelope: v: / },
    { ...body({ payload: { n: 1, ms: 'slow' } }), label: 'payload schema violation', reason: /^invalid payload for default.fault_work: ms: / },
    { ...body({ '\u0001': 1 }), label: 'control character in an unknown key', reason: /^invalid envelope: .*Unrecognized key/ },
    { ...raw({ task: 'TASK' }, 'TASK', '"default.\\uffff"'), label: 'noncharacter U+FFFF in the task name', reason: /^unknown task/ },
    { body: kombu('application/x-python-serialize', '\x80\x04\x95pickle', celeryId), id: celeryId, label: 'Celery message in pickle', reason: /^invalid Celery message: content-type 'application\/x-python-serialize'/ },
    { body: Buffer.from(Array.from({ length: 96 }, (_, i) => (i * 73 + 11) % 256)).toString('base64'), label: 'base64 of garbage', reason: /^invalid JSON: / },
    { body: `eyJ${Buffer.from('\x00\x01garbage that is not JSON').toString('base64')}`, label: 'base64 starting like JSON, then garbage', reason: /^invalid JSON: / },
  ];
}
