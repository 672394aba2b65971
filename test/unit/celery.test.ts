import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tasks } from '../../shared/catalogue/index.ts';
import { derivedIds } from '../../shared/envelope/celery-canvas.ts';
import { taskId } from '../../shared/envelope/envelope.ts';
import { parseMessage, TaskDirectory } from '../../shared/runtime/parse.ts';
import { implementations } from '../../shared/tasks/index.ts';
import { sqsRecordFactory } from '../support/factories.ts';

/** test/fixtures/celery/messages.json: SendMessage requests captured from Celery 5.2 by capture.py. */
interface Fixture {
  readonly case: string;
  readonly request: { readonly params: { readonly QueueUrl: string; readonly MessageBody: string } };
  /** Python's reading of the body: used here for the ids Celery drew, never as input. */
  readonly decoded: {
    readonly message: { readonly headers: Record<string, unknown>; readonly properties: Record<string, unknown> };
    readonly body: unknown;
  };
}

const fixtures = (JSON.parse(readFileSync(new URL('../fixtures/celery/messages.json', import.meta.url), 'utf8')) as { messages: Fixture[] }).messages;
const sentAt = '2026-11-27T09:00:00.000Z';
const refund = { paymentIntentId: 'pi_123', amount: 1500, reason: 'requested_by_customer' };

const fixture = (name: string) => fixtures.find((f) => f.case === name)!;
const queueOf = (f: Fixture) => f.request.params.QueueUrl.replace(/^.*\/local-/, '');
/** The task id Celery drew: in the headers (protocol 2) or the body (protocol 1). */
const celeryId = (f: Fixture) => String(f.decoded.message.headers.id ?? (f.decoded.body as { id: string }).id);

function parse(body: string, queue: string) {
  const record = sqsRecordFactory(body, {
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.parse(sentAt)), SenderId: 'AIDATEST', ApproximateFirstReceiveTimestamp: String(Date.parse(sentAt)) },
  });
  return { record, parsed: parseMessage(record, new TaskDirectory(queue, implementations, Object.values(tasks))) };
}

type Expected =
  | { task: string; envelopeTask?: string; payload: Record<string, unknown> | ((f: Fixture) => Record<string, unknown>); fields?: (f: Fixture) => Record<string, unknown> }
  | { reason: string | ((f: Fixture) => string) };
const sendInvoice = 'app.tasks.billing_tasks.send_invoice';
interface EmbeddedSignature {
  readonly options: { readonly task_id: string };
}
/** Protocol 2's embed, as Python read it. */
const embedded = (f: Fixture) => (f.decoded.body as [unknown, unknown, { chain?: EmbeddedSignature[] }])[2];

/** What each captured message becomes. */
const expected: Record<string, Expected> = {
  kwargs: { task: 'billing.process_refund', payload: refund },
  args: { task: 'billing.process_refund', payload: { paymentIntentId: 'pi_456', amount: 500, reason: 'duplicate' } },
  args_and_kwargs: { task: 'billing.process_refund', payload: { paymentIntentId: 'pi_789', reason: 'fraudulent' } },
  args_and_same_kwarg: { reason: "invalid Celery message: kwargs: 'payment_intent_id' and positional arg 0 both give 'paymentIntentId'" },
  too_many_args: { reason: 'invalid Celery message: args: app.tasks.billing_tasks.sync_subscription_status takes 1 positional args (userId) but 2 were given' },
  countdown: {
    task: 'data.export_data',
    payload: { userId: 42, format: 'csv' },
    fields: (f) => ({ eta: new Date(String(f.decoded.message.headers.eta)).toISOString() }),
  },
  eta_offset: { task: 'billing.send_invoice', payload: { invoiceId: 'in_42' }, fields: () => ({ eta: '2030-01-01T10:00:00.000Z' }) },
  eta_naive: { task: 'billing.send_invoice', payload: { invoiceId: 'in_43' }, fields: () => ({ eta: '2030-01-01T10:00:00.250Z' }) },
  expires_seconds: {
    task: 'ai.process_ai_request',
    payload: { userId: 7, prompt: 'Summarise.' },
    fields: (f) => ({ expires: new Date(String(f.decoded.message.headers.expires)).toISOString() }),
  },
  expires_naive: { task: 'ai.process_ai_request', payload: { userId: 7, prompt: 'Too late.' }, fields: () => ({ expires: '2020-01-01T00:00:00.000Z' }) },
  task_id: { task: 'billing.process_refund', payload: refund },
  task_id_invalid: { reason: "invalid Celery message: id: 'refund pi_123 #1' is not a task id here (1–128 of A-Z a-z 0-9 _ . : -, starting with a letter or digit)" },
  parent: {
    task: 'billing.process_refund',
    payload: refund,
    fields: () => ({ parentId: 'b2f7a3c0-5f1e-4a7b-9a43-0d6f1c2e8a11', rootId: '0a6c2d1e-7b3f-4e58-8c9d-2f4a6b8c0d13' }),
  },
  non_ascii: { task: 'ai.process_ai_request', payload: { userId: 7, prompt: 'Résumé naïf du café ☕ à 東京 🚀', options: { max_tokens: 100 } } },
  unknown_task: { reason: "unknown task 'app.tasks.legacy_tasks.rebuild_search_index'" },
  union_kwargs: { task: 'ai.generate_embeddings', payload: { userId: 7, documentId: 'doc_1' } },
  union_args: { reason: "invalid Celery message: args: app.tasks.ai_tasks.generate_embeddings's payload is a union, not one object, so positional args have no order: send kwargs" },
  no_arguments: { task: 'billing.process_pending_webhooks', payload: {} },
  link: {
    task: 'billing.process_refund',
    payload: refund,
    fields: (f) => ({ link: [[{ id: derivedIds(celeryId(f))('embed.callbacks[0]'), task: sendInvoice, payload: { invoiceId: 'in_1' }, immutable: true }]] }),
  },
  link_error: {
    task: 'billing.process_refund',
    payload: refund,
    fields: (f) => ({ linkError: [{ id: derivedIds(celeryId(f))('embed.errbacks[0]'), task: sendInvoice, payload: { invoiceId: 'in_1' }, immutable: true }] }),
  },
  link_error_mutable: {
    reason: `invalid Celery message: embed.errbacks[0]: errback '${sendInvoice}' takes the failed task's id (or its request, exception and traceback) as Celery calls it, which cannot be passed here: link it with .si()`,
  },
  chain: {
    task: 'billing.sync_subscription_status',
    payload: { userId: 7 },
    fields: (f) => ({ chain: [{ id: embedded(f).chain![0]!.options.task_id, task: sendInvoice, payload: { invoiceId: 'in_1' }, immutable: true }] }),
  },
  chain_across_queues: {
    task: 'billing.sync_subscription_status',
    payload: { userId: 7 },
    fields: (f) => ({ chain: [{ id: embedded(f).chain![0]!.options.task_id, task: 'app.tasks.data_tasks.export_data', payload: { format: 'csv' }, resultAs: 'userId' }] }),
  },
  chain_with_group: {
    task: 'billing.sync_subscription_status',
    payload: { userId: 7 },
    fields: (f) => {
      const chord = embedded(f).chain![0]! as unknown as { kwargs: { header: { options: { task_id: string }; kwargs: { tasks: { options: { task_id: string } }[] } }; body: { options: { task_id: string } } } };
      const [a, b] = chord.kwargs.header.kwargs.tasks;
      return {
        chain: [
          { group: chord.kwargs.header.options.task_id, members: [[{ id: a!.options.task_id, task: sendInvoice, payload: { invoiceId: 'a' }, immutable: true }], [{ id: b!.options.task_id, task: sendInvoice, payload: { invoiceId: 'b' }, immutable: true }]] },
          { id: chord.kwargs.body.options.task_id, task: 'app.tasks.billing_tasks.sync_subscription_status', payload: { userId: 9 }, immutable: true },
        ],
      };
    },
  },
  // Members of a group or a chord's header run as tasks of their own: Celery's database backend collects their results, and the chord_unlock joins them.
  group: { task: 'billing.sync_subscription_status', payload: { userId: 7 } },
  group_2: { task: 'billing.sync_subscription_status', payload: { userId: 8 } },
  chord: { task: 'billing.sync_subscription_status', payload: { userId: 7 } },
  chord_database: {
    task: 'billing.chord_unlock',
    envelopeTask: 'billing.chord_unlock',
    payload: (f) => {
      const [[groupId], kwargs] = f.decoded.body as [[string, unknown], { result: [[string, null], null][] }];
      return { groupId, members: kwargs.result.map(([[id]]) => id), intervalSeconds: 1 };
    },
    fields: (f) => {
      const body = (f.decoded.body as [[string, { options: { task_id: string } }]])[0][1];
      // Celery sends it a second out, after the header.
      const eta = new Date(String(f.decoded.message.headers.eta)).toISOString();
      return { eta, chain: [{ id: body.options.task_id, task: sendInvoice, payload: { invoiceId: 'in_1' }, immutable: true }] };
    },
  },
  chord_database_2: { task: 'billing.sync_subscription_status', payload: { userId: 7 } },
  chord_database_3: { task: 'billing.sync_subscription_status', payload: { userId: 8 } },
  time_limit: { reason: "invalid Celery message: timelimit: per-call time limits [60, 50] are not supported; the catalogue's limits apply" },
  pickle: { reason: "invalid Celery message: content-type 'application/x-python-serialize' (pickle) cannot be read here: send with serializer='json'" },
  compressed: { reason: 'invalid Celery message: headers.compression: compressed bodies (application/x-gzip) are not supported: send without compression' },
  plain_json: { task: 'billing.process_refund', payload: refund },
  protocol_1: {
    task: 'billing.process_refund',
    payload: refund,
    fields: (f) => ({ eta: new Date(String((f.decoded.body as { eta: string }).eta)).toISOString() }),
  },
  protocol_1_args: { task: 'billing.process_refund', payload: { paymentIntentId: 'pi_456', amount: 500, reason: 'duplicate' } },
};

describe('Celery messages captured from Celery 5.2 on SQS', () => {
  it('has an expectation for every captured message, and every expectation a message', () => {
    expect(fixtures.map((f) => f.case).sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(fixtures.map((f) => [f.case, f] as const))('%s', (name, f) => {
    const expectation = expected[name]!;
    const { record, parsed } = parse(f.request.params.MessageBody, queueOf(f));
    const id = celeryId(f);
    if ('reason' in expectation) {
      const reason = typeof expectation.reason === 'string' ? expectation.reason : expectation.reason(f);
      // Filed under Celery's id and task name, or the SQS message id when Celery's id is not usable here.
      expect(parsed).toMatchObject({ ok: false, reason, id: taskId.safeParse(id).success ? id : record.messageId, task: String(f.decoded.message.headers.task) });
      return;
    }
    const headers = f.decoded.message.headers;
    // Protocol 1 has no root id; protocol 2 sets it to the task's own id for a first task.
    const rootId = headers.root_id ? { rootId: String(headers.root_id) } : {};
    expect(parsed.ok && parsed.implementation.definition.name).toBe(expectation.task);
    expect(parsed.ok && parsed.envelope).toEqual({
      v: 1, id, task: expectation.envelopeTask ?? (name.startsWith('protocol_1') ? 'app.tasks.billing_tasks.process_refund' : headers.task),
      payload: typeof expectation.payload === 'function' ? expectation.payload(f) : expectation.payload, createdAt: sentAt,
      ...rootId, ...expectation.fields?.(f),
    });
  });
});

describe('Celery messages changed from a captured one', () => {
  it('files a rejected message with the kwargs its sender wrote, or none when the body is unreadable', () => {
    expect(parse(fixture('link_error_mutable').request.params.MessageBody, 'billing').parsed).toMatchObject({ payload: { payment_intent_id: 'pi_123', amount: 1500, reason: 'requested_by_customer' } });
    expect(parse(fixture('pickle').request.params.MessageBody, 'billing').parsed).toMatchObject({ payload: null });
  });

  /** A captured message with its decoded kombu message or body changed, encoded as kombu does. */
  function variant(name: string, change: (message: Record<string, unknown>, body: unknown) => unknown) {
    const f = fixture(name);
    const message = structuredClone(f.decoded.message) as Record<string, unknown>;
    const body = change(message, structuredClone(f.decoded.body)) ?? f.decoded.body;
    message.body = Buffer.from(JSON.stringify(body)).toString('base64');
    return Buffer.from(JSON.stringify(message)).toString('base64');
  }

  it('reads a naive protocol-1 eta as UTC only when the message says utc', () => {
    const body = variant('protocol_1', (_m, b) => ({ ...(b as object), eta: '2030-01-01T10:00:00', utc: false }));
    expect(parse(body, 'billing').parsed).toMatchObject({
      ok: false,
      reason: "invalid Celery message: eta: '2030-01-01T10:00:00' has no offset and the message says utc=false, so its time zone is unknown",
    });
  });

  it('refuses a snake_case and a camelCase kwarg that name the same field', () => {
    const body = variant('kwargs', (_m, b) => [[], { ...(b as [unknown, object])[1], paymentIntentId: 'pi_9' }, (b as unknown[])[2]]);
    expect(parse(body, 'billing').parsed).toMatchObject({ ok: false, reason: "invalid Celery message: kwargs: 'paymentIntentId' and kwarg 'payment_intent_id' both give 'paymentIntentId'" });
  });

  it('refuses a __proto__ kwarg as the envelope path does', () => {
    const f = fixture('kwargs');
    const message = { ...f.decoded.message, body: Buffer.from('[[], {"__proto__": {"polluted": true}}, {}]').toString('base64') };
    const parsed = parse(Buffer.from(JSON.stringify(message)).toString('base64'), 'billing').parsed;
    expect(parsed).toMatchObject({ ok: false, reason: 'invalid Celery message: body: not JSON: the key "__proto__" is not allowed' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('checks the mapped payload against the task schema like any envelope', () => {
    const body = variant('kwargs', (_m, b) => [[], { payment_intent_id: 'pi_1', reason: 'because' }, (b as unknown[])[2]]);
    expect(parse(body, 'billing').parsed).toMatchObject({ ok: false, reason: expect.stringMatching(/^invalid payload for billing.process_refund: reason:/) });
  });

  it('names the queue a Celery task belongs to when it arrives on another', () => {
    const parsed = parse(fixture('kwargs').request.params.MessageBody, 'default').parsed;
    expect(parsed).toMatchObject({ ok: false, reason: "task 'billing.process_refund' belongs to queue 'billing', not 'default'" });
  });

  it('leaves other base64 bodies to the envelope rules', () => {
    const body = Buffer.from(JSON.stringify({ v: 1, id: 'a1', task: 'default.noop', payload: {}, createdAt: sentAt })).toString('base64');
    expect(parse(body, 'default').parsed).toMatchObject({ ok: false, reason: expect.stringMatching(/^invalid JSON: /) });
  });
});
