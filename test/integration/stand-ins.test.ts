// Powertools (its commons, through the logger) adds its user agent to process.env.AWS_SDK_UA_APP_ID when first loaded:
// loaded here, before the test takes its snapshot of the environment.
import '@aws-lambda-powertools/logger';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { sql } from 'drizzle-orm';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEnvelope, type Envelope } from '../../shared/envelope/envelope.ts';
import type { LocalCloud } from '../../shared/local/cloud.ts';
import type { Database } from '../../shared/results/database.ts';
import { databaseKind } from '../support/database.ts';
import { startEmbeddedCloud, startLocalCloudProcess } from '../support/local-cloud.ts';
import { startOpenAiFixture } from '../support/openai-fixture.ts';
import { waitFor } from '../support/wait.ts';

/** What `npm start` sees on a machine with no keys: every one of these unset. */
const noKeys = { OPENAI_API_KEY: undefined, OPENAI_BASE_URL: undefined, STRIPE_API_KEY: undefined, STRIPE_API_BASE: undefined, STRIPE_WEBHOOK_SECRET: undefined };

type TaskView = { status: string; result: unknown; error?: string };

async function finished(dashboardUrl: string, id: string): Promise<TaskView> {
  return waitFor(async () => {
    const response = await fetch(`${dashboardUrl}/api/tasks/${encodeURIComponent(id)}`);
    const found = response.ok ? ((await response.json()) as TaskView) : undefined;
    return found && ['SUCCESS', 'FAILURE'].includes(found.status) ? found : undefined;
  }, 30_000, `task ${id} to finish`);
}

/** The official SDK against the stand-in, as a developer seeds test-mode objects. */
function stripeAt(url: string): Stripe {
  const base = new URL(url);
  return new Stripe('sk_test_seeding', { host: base.hostname, port: base.port, protocol: 'http', maxNetworkRetries: 0 });
}

describe(`the local cloud with no keys runs the AI and billing tasks against its stand-ins (${databaseKind})`, () => {
  let cloud: LocalCloud;
  let sqs: SQSClient;
  let database: Database;
  let cleanUp: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const started = await startEmbeddedCloud('standins', { standIns: true, extraEnv: noKeys });
    ({ cloud, sqs, cleanUp } = started);
    database = await started.database();
  }, 60_000);
  afterAll(() => cleanUp?.(), 60_000);

  const send = async (envelope: Envelope) => {
    const queue = cloud.queues[envelope.task.split('.')[0] as keyof LocalCloud['queues']];
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: JSON.stringify(envelope) }));
    return finished(cloud.dashboardUrl, envelope.id);
  };

  it('answers a chat completion and embeddings deterministically, with token usage, stored as rows', async () => {
    expect(cloud.standIns).toEqual({ openai: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/v1$/), stripe: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
    const ask = newEnvelope('ai.process_ai_request', { userId: 3, prompt: 'Summarise the uploaded customer list.' });
    const answered = await send(ask);
    expect(answered.status).toBe('SUCCESS');
    const result = answered.result as { answer: string; model: string; usage: { promptTokens: number; completionTokens: number; totalTokens: number } };
    expect(result.answer).toMatch(/^\[local stand-in\] gpt-4o-mini .*"Summarise the uploaded customer list\."$/);
    expect(result.usage).toEqual({ promptTokens: 10, completionTokens: Math.ceil(result.answer.length / 4), totalTokens: 10 + Math.ceil(result.answer.length / 4) });
    expect(await database.rows(sql`select user_id, answer, total_tokens from ai_requests where task_id = ${ask.id}`)).toEqual([{ user_id: 3, answer: result.answer, total_tokens: result.usage.totalTokens }]);

    const embed = newEnvelope('ai.generate_embeddings', { userId: 3, texts: ['alpha', 'beta', 'gamma'] });
    expect(await send(embed)).toMatchObject({ status: 'SUCCESS', result: { embedded: 3, requests: 1, model: 'text-embedding-3-small' } });
    const rows = await database.rows<{ content: string; vector: string }>(sql`select content, vector::text as vector from embeddings where user_id = 3 order by content`);
    // The model's dimension, and a unit vector.
    expect(rows.map((row) => row.content)).toEqual(['alpha', 'beta', 'gamma']);
    const vector = JSON.parse(rows[0]!.vector.replace(/^\{/, '[').replace(/\}$/, ']')) as number[];
    expect(vector).toHaveLength(1536);
    expect(Math.hypot(...vector)).toBeCloseTo(1, 4);
  }, 60_000);

  it('syncs subscriptions, sends an invoice and refunds in test mode, and applies the signed events it delivers to the webhook', async () => {
    const stripe = stripeAt(cloud.standIns.stripe!);
    const customer = await stripe.customers.create({ email: 'ada@example.com' });
    await database.rows(sql`insert into users (id, email, stripe_customer_id) values (77, 'ada@example.com', ${customer.id})`);
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: 'price_pro' }] });
    await stripe.invoiceItems.create({ customer: customer.id, amount: 1900, currency: 'eur' });
    const invoice = await stripe.invoices.create({ customer: customer.id });
    const payment = await stripe.paymentIntents.create({ amount: 4200, currency: 'eur', customer: customer.id, confirm: true, payment_method: 'pm_card_visa' });

    expect(await send(newEnvelope('billing.sync_subscription_status', { userId: 77 }))).toMatchObject({ status: 'SUCCESS', result: { userId: 77, synced: 1 } });
    expect(await database.rows(sql`select id, user_id, status, price_id from subscriptions where customer_id = ${customer.id}`)).toEqual([{ id: subscription.id, user_id: 77, status: 'active', price_id: 'price_pro' }]);

    expect(await send(newEnvelope('billing.send_invoice', { invoiceId: invoice.id! }))).toMatchObject({ status: 'SUCCESS', result: { invoiceId: invoice.id, status: 'open' } });
    const refund = newEnvelope('billing.process_refund', { paymentIntentId: payment.id, amount: 1000, reason: 'requested_by_customer' });
    expect(await send(refund)).toMatchObject({ status: 'SUCCESS', result: { amount: 1000, status: 'succeeded' } });
    const unknown = newEnvelope('billing.process_refund', { paymentIntentId: 'pi_never_created', reason: 'duplicate' });
    expect(await send(unknown)).toMatchObject({ status: 'FAILURE', error: expect.stringContaining("No such payment_intent: 'pi_never_created'") });

    // Each change was delivered, signed, to the receiver, stored once by the billing consumer and applied.
    const applied = await waitFor(async () => {
      const events = await database.rows<{ type: string; status: string }>(sql`select type, status from stripe_events order by stripe_created_at, id`);
      const types = events.map((event) => event.type);
      return ['customer.subscription.created', 'invoice.created', 'invoice.finalized', 'invoice.sent', 'charge.refunded'].every((type) => types.includes(type)) && events.every((event) => event.status === 'processed') ? events : undefined;
    }, 30_000, 'the delivered events to be applied');
    expect(applied.length).toBeGreaterThanOrEqual(5);
    expect(await database.rows(sql`select user_id, status, amount_due::int, currency from invoices where id = ${invoice.id!}`)).toEqual([{ user_id: 77, status: 'open', amount_due: 1900, currency: 'eur' }]);
    expect(await database.rows(sql`select payment_intent_id, amount::int, status, task_id from refunds where payment_intent_id = ${payment.id}`)).toEqual([{ payment_intent_id: payment.id, amount: 1000, status: 'succeeded', task_id: refund.id }]);
  }, 90_000);
});

/** Sends a task through the dashboard's API, as `taskq send` does, and waits for its outcome. */
async function sendThroughApi(dashboardUrl: string, task: string, payload: unknown): Promise<TaskView> {
  const response = await fetch(`${dashboardUrl}/api/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task, payload }) });
  const { id } = (await response.json()) as { id: string };
  return finished(dashboardUrl, id);
}

it(`npm start with no keys names its stand-ins on the ready line and runs the AI and billing tasks offline (${databaseKind})`, async () => {
  const cloud = await startLocalCloudProcess(noKeys);
  try {
    expect(cloud.ready).toMatch(/ · OpenAI: local stand-in http:\/\/127\.0\.0\.1:\d+\/v1, deterministic answers \(set OPENAI_API_KEY or OPENAI_BASE_URL for the real API\)/);
    expect(cloud.ready).toMatch(/ · Stripe: local stand-in http:\/\/127\.0\.0\.1:\d+, test mode, .*\(set STRIPE_API_KEY or STRIPE_API_BASE for the real API\)/);
    expect(await sendThroughApi(cloud.dashboardUrl, 'ai.process_ai_request', { userId: 1, prompt: 'hi' })).toMatchObject({ status: 'SUCCESS', result: { answer: expect.stringMatching(/^\[local stand-in\]/) } });
    expect(await sendThroughApi(cloud.dashboardUrl, 'ai.generate_embeddings', { userId: 1, texts: ['one', 'two'] })).toMatchObject({ status: 'SUCCESS', result: { embedded: 2 } });

    const stripe = stripeAt(/Stripe: local stand-in (http:\/\/\S+?),/.exec(cloud.ready)![1]!);
    const customer = await stripe.customers.create({ email: 'grace@example.com' });
    const invoice = await stripe.invoices.create({ customer: customer.id });
    const payment = await stripe.paymentIntents.create({ amount: 900, currency: 'usd', customer: customer.id });
    expect(await sendThroughApi(cloud.dashboardUrl, 'billing.send_invoice', { invoiceId: invoice.id })).toMatchObject({ status: 'SUCCESS', result: { status: 'open' } });
    expect(await sendThroughApi(cloud.dashboardUrl, 'billing.process_refund', { paymentIntentId: payment.id, reason: 'duplicate' })).toMatchObject({ status: 'SUCCESS', result: { amount: 900 } });
    // The stand-in's events reached the receiver and ran as billing.process_pending_webhooks, one task per event.
    const applied = await waitFor(async () => {
      const runs = (await (await fetch(`${cloud.dashboardUrl}/api/tasks?task=billing.process_pending_webhooks&status=SUCCESS&limit=100`)).json()) as { id: string }[];
      return runs.filter((run) => run.id.startsWith('stripe-event:evt_local')).length >= 5 ? runs : undefined;
    }, 30_000, 'the delivered events to run');
    expect(applied.length).toBeGreaterThanOrEqual(5);
  } finally {
    await cloud.cleanUp();
  }
}, 60_000);

it(`npm start with OPENAI_BASE_URL set calls that server and starts no OpenAI stand-in (${databaseKind})`, async () => {
  const openai = await startOpenAiFixture();
  const cloud = await startLocalCloudProcess({ ...noKeys, OPENAI_API_KEY: 'sk-test-local', OPENAI_BASE_URL: openai.baseUrl });
  try {
    expect(cloud.ready).not.toContain('OpenAI: local stand-in');
    expect(cloud.ready).toContain('Stripe: local stand-in');
    expect(await sendThroughApi(cloud.dashboardUrl, 'ai.process_ai_request', { userId: 1, prompt: 'hi there' })).toMatchObject({ status: 'SUCCESS', result: { answer: 'echo: hi there' } });
  } finally {
    await cloud.cleanUp();
    await openai.stop();
  }
}, 60_000);
