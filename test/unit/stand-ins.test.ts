import OpenAI from 'openai';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deterministicAnswers, unitVectorOf } from '../../shared/local/stand-ins/openai-answers.ts';
import { startOpenAiStandIn, type OpenAiStandIn } from '../../shared/local/stand-ins/openai.ts';
import { parseForm, startStripeStandIn, type StripeStandIn } from '../../shared/local/stand-ins/stripe.ts';
import { stripeSignature } from '../../shared/local/stand-ins/stripe-webhooks.ts';

describe('the OpenAI stand-in', () => {
  let standIn: OpenAiStandIn;
  let openai: OpenAI;
  beforeAll(async () => {
    standIn = await startOpenAiStandIn({ apiKey: 'sk-local-stand-in' });
    openai = new OpenAI({ apiKey: 'sk-local-stand-in', baseURL: standIn.baseUrl, maxRetries: 0 });
  });
  afterAll(() => standIn.stop());

  it('answers the same prompt with the same labelled text, and counts tokens from the lengths', async () => {
    const ask = () => openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Count the rows.' }] });
    const [first, second] = [await ask(), await ask()];
    expect(first.choices[0]!.message.content).toBe(second.choices[0]!.message.content);
    expect(first.choices[0]!.message.content).toBe('[local stand-in] gpt-4o-mini was not called: this answer is fixed by the prompt (3 words, 15 characters): "Count the rows."');
    expect(first.usage).toEqual({ prompt_tokens: 4, completion_tokens: Math.ceil(first.choices[0]!.message.content!.length / 4), total_tokens: 4 + Math.ceil(first.choices[0]!.message.content!.length / 4) });
  });

  it('embeds as unit vectors of the model\'s dimension, equal for equal texts, through the SDK\'s base64 decoding', async () => {
    const { data } = await openai.embeddings.create({ model: 'text-embedding-3-large', input: ['a', 'b', 'a'] });
    expect(data.map((d) => d.embedding.length)).toEqual([3072, 3072, 3072]);
    expect(Math.hypot(...data[0]!.embedding)).toBeCloseTo(1, 5);
    expect(data[0]!.embedding).toEqual(data[2]!.embedding);
    expect(data[0]!.embedding).not.toEqual(data[1]!.embedding);
    const small = await openai.embeddings.create({ model: 'text-embedding-3-small', input: 'a', dimensions: 8 });
    // float32 on the wire, as the real API sends.
    expect(small.data[0]!.embedding).toEqual(unitVectorOf('a', 8).map((x) => Math.fround(x)));
  });

  it('refuses another key as OpenAI does', async () => {
    const other = new OpenAI({ apiKey: 'sk-wrong', baseURL: standIn.baseUrl, maxRetries: 0 });
    await expect(other.models.list()).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' });
  });

  it('derives its answers from the prompt alone', () => {
    expect(deterministicAnswers.chat('x', 'm')).toEqual(deterministicAnswers.chat('x', 'm'));
    expect(unitVectorOf('x', 5)).toEqual(unitVectorOf('x', 5));
  });
});

describe('the Stripe stand-in', () => {
  let standIn: StripeStandIn;
  let stripe: Stripe;
  beforeAll(async () => {
    standIn = await startStripeStandIn();
    const base = new URL(standIn.url);
    stripe = new Stripe('sk_test_unit', { host: base.hostname, port: base.port, protocol: 'http', maxNetworkRetries: 0 });
  });
  afterAll(() => standIn.stop());

  it('answers a repeated idempotency key with the first answer, and refuses the key with other parameters', async () => {
    const customer = await stripe.customers.create({ email: 'a@example.com' });
    const payment = await stripe.paymentIntents.create({ amount: 3000, currency: 'usd', customer: customer.id });
    const first = await stripe.refunds.create({ payment_intent: payment.id, amount: 1000 }, { idempotencyKey: 'refund:1' });
    const again = await stripe.refunds.create({ payment_intent: payment.id, amount: 1000 }, { idempotencyKey: 'refund:1' });
    expect(again.id).toBe(first.id);
    expect(standIn.state.refunds).toHaveLength(1);
    await expect(stripe.refunds.create({ payment_intent: payment.id, amount: 500 }, { idempotencyKey: 'refund:1' })).rejects.toMatchObject({ type: 'StripeIdempotencyError' });
    await expect(stripe.refunds.create({ payment_intent: payment.id, amount: 2500 })).rejects.toMatchObject({ code: 'amount_too_large' });
  });

  it('answers unknown ids with Stripe\'s resource_missing error', async () => {
    await expect(stripe.invoices.sendInvoice('in_nope')).rejects.toMatchObject({ statusCode: 404, code: 'resource_missing', message: "No such invoice: 'in_nope'" });
    await expect(stripe.refunds.create({ payment_intent: 'pi_nope' })).rejects.toMatchObject({ statusCode: 400, code: 'resource_missing' });
    await expect(new Stripe('sk_live_x', { host: new URL(standIn.url).hostname, port: new URL(standIn.url).port, protocol: 'http', maxNetworkRetries: 0 }).customers.create()).rejects.toMatchObject({ statusCode: 401 });
  });

  it('signs what it delivers as Stripe does, so the SDK verifies it', () => {
    const body = JSON.stringify({ id: 'evt_1', object: 'event' });
    expect(Stripe.webhooks.constructEvent(body, stripeSignature(body, 'whsec_x'), 'whsec_x')).toMatchObject({ id: 'evt_1' });
    expect(stripeSignature(body, 'whsec_x', 1_700_000_000)).toBe(Stripe.webhooks.generateTestHeaderString({ payload: body, secret: 'whsec_x', timestamp: 1_700_000_000 }));
  });

  it('reads Stripe\'s form encoding back into objects, and drops names that would reach a prototype', () => {
    expect(parseForm(new URLSearchParams('items[0][price]=p&metadata[plan]=pro&amount=5&__proto__[x]=1'))).toEqual({ items: { 0: { price: 'p' } }, metadata: { plan: 'pro' }, amount: '5' });
  });
});
