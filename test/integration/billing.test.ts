import { sql } from 'drizzle-orm';
import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { applyPendingEvents, storeStripeEvent } from '../../shared/billing/apply-events.ts';
import { tasks } from '../../shared/catalogue/index.ts';
import type { Envelope } from '../../shared/envelope/envelope.ts';
import { receiveStripeWebhook } from '../../shared/billing/webhook.ts';
import { billingTasks } from '../../shared/tasks/billing.ts';
import { billingServices } from '../../shared/billing/service.ts';
import { envelope, sendBodies } from '../support/consumer.ts';
import { databaseKind } from '../support/database.ts';
import { startStripeFixture } from '../support/stripe-fixture.ts';
import { taskSuite } from '../support/task-suite.ts';
import { waitFor } from '../support/wait.ts';

describe(`billing tasks against a Stripe double (${databaseKind})`, () => {
  let stripe: Awaited<ReturnType<typeof startStripeFixture>>;
  beforeAll(async () => {
    stripe = await startStripeFixture();
  });
  afterAll(async () => stripe.stop());
  beforeEach(() => {
    stripe.state.failures.length = 0;
  });
  const { suite, finished } = taskSuite({
    queueName: 'billing',
    implementations: billingTasks,
    services: billingServices,
    env: () => ({ STRIPE_API_KEY: 'sk_test_local', STRIPE_API_BASE: stripe.url }),
  });

  it('refunds once even when Stripe refunded but its answer was lost, and records the refund', async () => {
    // The SDK retries once with the same key; both answers are lost, so the task itself retries.
    stripe.state.failures.push({ status: 500, afterHandling: true }, { status: 500 });
    const task = envelope('app.tasks.billing_tasks.process_refund', { paymentIntentId: 'pi_123', amount: 1500, reason: 'requested_by_customer' });
    const before = stripe.state.refunds.length;

    await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(task)]);
    const row = await finished(task.id);

    expect(row.attempts).toBe(2);
    expect(stripe.state.refunds.length - before).toBe(1);
    const keys = stripe.state.requests.filter((r) => r.path === '/v1/refunds').slice(-3).map((r) => r.idempotencyKey);
    expect(keys).toEqual([`refund:${task.id}`, `refund:${task.id}`, `refund:${task.id}`]);
    const refunds = await suite.db.database.rows<{ amount: number; payment_intent_id: string; task_id: string }>(sql`select amount::int, payment_intent_id, task_id from refunds where task_id = ${task.id}`);
    expect(refunds).toEqual([{ amount: 1500, payment_intent_id: 'pi_123', task_id: task.id }]);

    // A later duplicate of the message is acknowledged without calling Stripe.
    const calls = stripe.state.requests.length;
    await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(task)]);
    await waitFor(async () => suite.consumer!.invocations.length >= 3, 10_000, 'the duplicate');
    expect(stripe.state.requests.length).toBe(calls);
  });

  it('fails a refund Stripe refuses as invalid at once, without retrying', async () => {
    const task = envelope('billing.process_refund', { paymentIntentId: 'ch_not_a_payment_intent', reason: 'duplicate' });
    await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(task)]);

    const row = await finished(task.id, 'FAILURE');

    expect(row.attempts).toBe(1);
    expect(row.error).toContain("Stripe invalid_request_error (resource_missing): No such payment_intent: 'ch_not_a_payment_intent'");
  });

  it("honours Stripe's Retry-After on a rate limit, then sends the invoice once", async () => {
    stripe.state.failures.push({ status: 429, retryAfter: 1 });
    await suite.db.database.rows(sql`insert into invoices (id, customer_id, status, amount_due, amount_paid, currency, stripe_updated_at) values ('in_42', 'cus_1', 'draft', 900, 0, 'usd', 0)`);
    const task = envelope('billing.send_invoice', { invoiceId: 'in_42' });
    await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(task)]);

    const row = await finished(task.id);

    expect(row.attempts).toBe(2);
    const [attempt] = await suite.db.database.rows<{ error: string }>(sql`select error from task_attempts where task_id = ${task.id} and attempt = 1`);
    expect(attempt!.error).toContain('RetryLaterError: Stripe rate_limit_error');
    expect(stripe.state.invoicesSent.filter((id) => id === 'in_42')).toHaveLength(1);
    const [invoice] = await suite.db.database.rows<{ status: string; sent: boolean }>(sql`select status, sent_at is not null as sent from invoices where id = 'in_42'`);
    expect(invoice).toEqual({ status: 'open', sent: true });
  });

  it("syncs a user's subscriptions from Stripe, page by page", async () => {
    await suite.db.database.rows(sql`insert into users (id, email, stripe_customer_id) values (7, 'ada@example.com', 'cus_ada'), (8, 'bob@example.com', 'cus_bob')`);
    stripe.state.subscriptions.push(
      ...Array.from({ length: 3 }, (_, i) => ({ id: `sub_ada_${i}`, object: 'subscription', customer: 'cus_ada', status: i === 0 ? 'active' : 'canceled', cancel_at_period_end: false, items: { object: 'list', data: [{ price: { id: 'price_pro' }, current_period_end: 1_800_000_000 }] } })),
      { id: 'sub_bob', object: 'subscription', customer: 'cus_bob', status: 'active', items: { object: 'list', data: [] } },
    );
    const task = envelope('billing.sync_subscription_status', { userId: 7 });
    await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(task)]);

    const row = await finished(task.id);

    expect(JSON.parse(row.result!)).toEqual({ userId: 7, synced: 3 });
    const rows = await suite.db.database.rows<{ id: string; user_id: number; status: string; price_id: string }>(sql`select id, user_id, status, price_id from subscriptions order by id`);
    expect(rows).toEqual([
      { id: 'sub_ada_0', user_id: 7, status: 'active', price_id: 'price_pro' },
      { id: 'sub_ada_1', user_id: 7, status: 'canceled', price_id: 'price_pro' },
      { id: 'sub_ada_2', user_id: 7, status: 'canceled', price_id: 'price_pro' },
    ]);
  });

  describe('webhook events', () => {
    const secret = 'whsec_billing_test';
    /** The webhook's envelopes, as the billing queue would receive them. */
    let forwarded: Envelope[] = [];
    beforeEach(() => {
      forwarded = [];
    });
    /** Through the webhook, then the event stored as the billing consumer's first step stores it. */
    const receive = async (event: Record<string, unknown>) => {
      const payload = JSON.stringify(event);
      const response = await receiveStripeWebhook(
        { method: 'POST', body: payload, signature: Stripe.webhooks.generateTestHeaderString({ payload, secret }) },
        { signingSecret: async () => secret, enqueue: async (envelope) => void forwarded.push(envelope) },
      );
      expect(response.status).toBe(200);
      const { event: verified } = tasks['billing.process_pending_webhooks'].payload.parse(forwarded.at(-1)!.payload);
      await storeStripeEvent(suite.db.database, verified!);
    };
    const event = (id: string, type: string, created: number, object: Record<string, unknown>) => ({ id, object: 'event', type, created, livemode: false, api_version: '2025-10-29.clover', pending_webhooks: 1, request: null, data: { object } });

    it('applies subscription, invoice and refund events in order, newest state winning', async () => {
      await suite.db.database.rows(sql`insert into users (id, email, stripe_customer_id) values (7, 'ada@example.com', 'cus_ada')`);
      await receive(event('evt_1', 'customer.subscription.created', 100, { id: 'sub_1', object: 'subscription', customer: 'cus_ada', status: 'trialing', items: { data: [] } }));
      await receive(event('evt_3', 'customer.subscription.updated', 300, { id: 'sub_1', object: 'subscription', customer: 'cus_ada', status: 'active', items: { data: [] } }));
      // Delivered late: older than what evt_3 set.
      await receive(event('evt_2', 'customer.subscription.updated', 200, { id: 'sub_1', object: 'subscription', customer: 'cus_ada', status: 'past_due', items: { data: [] } }));
      await receive(event('evt_4', 'invoice.paid', 400, { id: 'in_1', object: 'invoice', customer: 'cus_ada', status: 'paid', amount_due: 900, amount_paid: 900, currency: 'usd' }));
      await receive(event('evt_5', 'charge.refunded', 500, { id: 'ch_1', object: 'charge', refunds: { data: [{ id: 're_9', object: 'refund', amount: 300, currency: 'usd', payment_intent: 'pi_9', charge: 'ch_1', status: 'succeeded' }] } }));
      await receive(event('evt_6', 'customer.created', 600, { id: 'cus_new', object: 'customer' }));

      expect(await applyPendingEvents(suite.db.database)).toEqual({ processed: 6, failed: 0, ignored: 1 });

      expect(await suite.db.database.rows(sql`select id, user_id, status from subscriptions`)).toEqual([{ id: 'sub_1', user_id: 7, status: 'active' }]);
      expect(await suite.db.database.rows(sql`select id, user_id, status, amount_paid::int from invoices`)).toEqual([{ id: 'in_1', user_id: 7, status: 'paid', amount_paid: 900 }]);
      expect(await suite.db.database.rows(sql`select id, amount::int, payment_intent_id from refunds`)).toEqual([{ id: 're_9', amount: 300, payment_intent_id: 'pi_9' }]);
      expect(await suite.db.database.rows(sql`select count(*)::int as pending from stripe_events where status = 'pending'`)).toEqual([{ pending: 0 }]);
      expect(await applyPendingEvents(suite.db.database)).toEqual({ processed: 0, failed: 0, ignored: 0 });
    });

    it('fails a bad event alone, records why, and keeps it pending for the next run', async () => {
      await receive(event('evt_bad', 'invoice.paid', 100, { id: 'in_bad', object: 'invoice', customer: 'cus_x', status: 'paid', amount_due: 'lots', amount_paid: 0, currency: 'usd' }));
      await receive(event('evt_good', 'invoice.paid', 200, { id: 'in_good', object: 'invoice', customer: 'cus_x', status: 'paid', amount_due: 100, amount_paid: 100, currency: 'usd' }));

      expect(await applyPendingEvents(suite.db.database)).toEqual({ processed: 1, failed: 1, ignored: 0 });

      const [bad] = await suite.db.database.rows<{ status: string; attempts: number; last_error: string }>(sql`select status, attempts, last_error from stripe_events where id = 'evt_bad'`);
      expect(bad).toMatchObject({ status: 'pending', attempts: 1 });
      expect(bad!.last_error).toMatch(/lots/);
      expect(await suite.db.database.rows(sql`select id from invoices`)).toEqual([{ id: 'in_good' }]);
    });

    it('never applies an event twice when runs overlap', async () => {
      for (let i = 0; i < 20; i++) await receive(event(`evt_${i}`, 'invoice.paid', i, { id: `in_${i}`, object: 'invoice', customer: 'cus_x', status: 'paid', amount_due: i, amount_paid: i, currency: 'usd' }));

      const runs = await Promise.all([applyPendingEvents(suite.db.database), applyPendingEvents(suite.db.database), applyPendingEvents(suite.db.database)]);

      expect(runs.reduce((sum, run) => sum + run.processed, 0)).toBe(20);
      expect(await suite.db.database.rows(sql`select count(*)::int as n, sum(attempts)::int as attempts from stripe_events`)).toEqual([{ n: 20, attempts: 20 }]);
    });

    it('runs as the scheduled task through the consumer', async () => {
      await receive(event('evt_s', 'invoice.paid', 1, { id: 'in_s', object: 'invoice', customer: 'cus_x', status: 'paid', amount_due: 1, amount_paid: 1, currency: 'usd' }));
      const task = envelope('app.tasks.billing_tasks.process_pending_webhooks', {});
      await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(task)]);

      const row = await finished(task.id);

      expect(JSON.parse(row.result!)).toEqual({ processed: 1, failed: 0, ignored: 0 });
    });

    it("stores and applies the webhook's event when the consumer runs the forwarded message, once however often it is delivered", async () => {
      const payload = JSON.stringify(event('evt_w', 'invoice.paid', 1, { id: 'in_w', object: 'invoice', customer: 'cus_x', status: 'paid', amount_due: 5, amount_paid: 5, currency: 'usd' }));
      const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret });
      for (let delivery = 0; delivery < 2; delivery++) {
        await receiveStripeWebhook({ method: 'POST', body: payload, signature }, { signingSecret: async () => secret, enqueue: async (envelope) => void forwarded.push(envelope) });
      }
      await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(forwarded[0])]);
      const row = await finished(forwarded[0]!.id);
      await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(forwarded[1])]);
      await waitFor(async () => {
        const { Attributes: a } = await suite.emulator.sqs.send(new GetQueueAttributesCommand({ QueueUrl: suite.queue.url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
        return a?.ApproximateNumberOfMessages === '0' && a.ApproximateNumberOfMessagesNotVisible === '0';
      }, 20_000, 'the redelivered event to be acknowledged');

      expect(JSON.parse(row.result!)).toEqual({ processed: 1, failed: 0, ignored: 0 });
      expect(await suite.db.database.rows(sql`select id, status, attempts from stripe_events`)).toEqual([{ id: 'evt_w', status: 'processed', attempts: 1 }]);
      expect(await suite.db.database.rows(sql`select id, amount_paid::int from invoices`)).toEqual([{ id: 'in_w', amount_paid: 5 }]);
    });
  });
});
