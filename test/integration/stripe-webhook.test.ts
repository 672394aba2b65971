import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { sql } from 'drizzle-orm';
import Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { storeStripeEvent } from '../../shared/billing/apply-events.ts';
import { receiveStripeWebhook, type WebhookDependencies } from '../../shared/billing/webhook.ts';
import { tasks } from '../../shared/catalogue/index.ts';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { databaseKind, openTestDatabase } from '../support/database.ts';
import { createTestQueue, startEmulator, type TestQueue } from '../support/emulator.ts';

const secret = 'whsec_test_local_signing_secret';

/** A Stripe event body and its signature header, made by the official SDK's test helper. */
function signed(event: Record<string, unknown>, options: { secret?: string; timestamp?: number } = {}) {
  const payload = JSON.stringify(event);
  const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: options.secret ?? secret, ...(options.timestamp ? { timestamp: options.timestamp } : {}) });
  return { payload, header };
}

const stripeEvent = (id: string) => ({
  id,
  object: 'event',
  type: 'invoice.paid',
  api_version: '2025-10-29.clover',
  created: Math.floor(Date.now() / 1000),
  livemode: false,
  pending_webhooks: 1,
  request: { id: null, idempotency_key: null },
  data: { object: { id: 'in_123', object: 'invoice', customer: 'cus_123', status: 'paid' } },
});

describe(`Stripe webhook receiver and the event store (${databaseKind})`, () => {
  let emulator: Awaited<ReturnType<typeof startEmulator>>;
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let queue: TestQueue;
  let deps: WebhookDependencies;

  beforeAll(async () => {
    emulator = await startEmulator();
  });
  afterAll(async () => emulator.stop());
  beforeEach(async () => {
    db = await openTestDatabase();
    queue = await createTestQueue(emulator.sqs, { visibilityTimeoutSeconds: 30 });
    deps = {
      signingSecret: async () => secret,
      enqueue: async (envelope) => {
        await emulator.sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: JSON.stringify(envelope) }));
      },
    };
  });
  afterEach(async () => db.close());

  const storedEvents = () => db.database.rows<{ id: string; type: string; status: string; livemode: boolean }>(sql`select id, type, status, livemode from stripe_events order by id`);
  const queued = async () => (await emulator.sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }))).Messages ?? [];

  it('queues a verified event for the billing consumer, which stores it once as pending', async () => {
    const event = stripeEvent('evt_1');
    const { payload, header } = signed(event);

    const response = await receiveStripeWebhook({ method: 'POST', body: payload, signature: header }, deps);

    expect(response).toEqual({ status: 200, body: { received: true, id: 'evt_1' } });
    const [message, ...more] = await queued();
    expect(more).toHaveLength(0);
    const envelope = JSON.parse(message!.Body!);
    expect(envelope).toMatchObject({ v: 1, id: 'stripe-event:evt_1', task: 'billing.process_pending_webhooks', payload: { event } });
    const parsed = tasks['billing.process_pending_webhooks'].payload.parse(envelope.payload);
    expect(await storeStripeEvent(db.database, parsed.event!)).toBe(true);
    expect(await storeStripeEvent(db.database, parsed.event!)).toBe(false);
    expect(await storedEvents()).toEqual([{ id: 'evt_1', type: 'invoice.paid', status: 'pending', livemode: false }]);
  });

  it('queues a redelivered event under the same task id, so the consumer runs it once', async () => {
    const first = signed(stripeEvent('evt_2'));
    await receiveStripeWebhook({ method: 'POST', body: first.payload, signature: first.header }, deps);
    const again = signed(stripeEvent('evt_2'));

    const response = await receiveStripeWebhook({ method: 'POST', body: again.payload, signature: again.header }, deps);

    expect(response.status).toBe(200);
    expect((await queued()).map((m) => JSON.parse(m.Body!).id)).toEqual(['stripe-event:evt_2', 'stripe-event:evt_2']);
  });

  it.each([
    ['forged (signed with another secret)', () => signed(stripeEvent('evt_3'), { secret: 'whsec_attacker' })],
    ['stale (signed ten minutes ago)', () => signed(stripeEvent('evt_4'), { timestamp: Math.floor(Date.now() / 1000) - 600 })],
    ['tampered after signing', () => ({ ...signed(stripeEvent('evt_5')), payload: JSON.stringify({ ...stripeEvent('evt_5'), type: 'charge.refunded' }) })],
    ['malformed (not JSON)', () => {
      const payload = 'not json at all';
      return { payload, header: Stripe.webhooks.generateTestHeaderString({ payload, secret }) };
    }],
    ['signed but not an event (no evt_ id)', () => signed({ ...stripeEvent('evt_8'), id: 'cus_123' })],
  ])('refuses a %s request with 400 and queues nothing', async (_kind, make) => {
    const { payload, header } = make();

    const response = await receiveStripeWebhook({ method: 'POST', body: payload, signature: header }, deps);

    expect(response.status).toBe(400);
    expect(await queued()).toEqual([]);
  });

  it('refuses a request without a signature, and anything but POST', async () => {
    const { payload } = signed(stripeEvent('evt_6'));
    expect(await receiveStripeWebhook({ method: 'POST', body: payload, signature: undefined }, deps)).toMatchObject({ status: 400 });
    expect(await receiveStripeWebhook({ method: 'GET', body: '', signature: 'x' }, deps)).toMatchObject({ status: 405 });
    expect(await queued()).toEqual([]);
  });

  it('answers 503 when the event cannot be queued, so Stripe delivers it again', async () => {
    const { payload, header } = signed(stripeEvent('evt_7'));
    const errors: unknown[] = [];

    const response = await receiveStripeWebhook(
      { method: 'POST', body: payload, signature: header },
      { ...deps, enqueue: async () => Promise.reject(new Error('SQS unavailable')), onEnqueueError: (error) => errors.push(error) },
    );

    expect(response.status).toBe(503);
    expect(errors).toHaveLength(1);
  });
});
