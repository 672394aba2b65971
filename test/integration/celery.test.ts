import { readFileSync } from 'node:fs';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingTasks } from '../../shared/tasks/billing.ts';
import { billingServices } from '../../shared/billing/service.ts';
import { databaseKind } from '../support/database.ts';
import { startStripeFixture } from '../support/stripe-fixture.ts';
import { taskSuite } from '../support/task-suite.ts';

interface Fixture {
  readonly case: string;
  readonly request: { readonly params: { readonly MessageBody: string } };
  readonly decoded: { readonly message: { readonly headers: { readonly id: string } } };
}

const fixtures = (JSON.parse(readFileSync(new URL('../fixtures/celery/messages.json', import.meta.url), 'utf8')) as { messages: Fixture[] }).messages;
const fixture = (name: string) => fixtures.find((f) => f.case === name)!;

describe(`messages Celery sent, on the billing consumer (${databaseKind})`, () => {
  let stripe: Awaited<ReturnType<typeof startStripeFixture>>;
  beforeAll(async () => {
    stripe = await startStripeFixture();
  });
  afterAll(async () => stripe.stop());
  const { suite, finished } = taskSuite({
    queueName: 'billing',
    implementations: billingTasks,
    services: billingServices,
    env: () => ({ STRIPE_API_KEY: 'sk_test_local', STRIPE_API_BASE: stripe.url }),
  });

  it("runs send_task('app.tasks.billing_tasks.process_refund') with kwargs or positional args as billing.process_refund", async () => {
    const sent = [fixture('kwargs'), fixture('args')];
    for (const f of sent) {
      await suite.emulator.sqs.send(new SendMessageCommand({ QueueUrl: suite.queue.url, MessageBody: f.request.params.MessageBody }));
    }

    const ids = sent.map((f) => f.decoded.message.headers.id);
    await Promise.all(ids.map((id) => finished(id)));

    const rows = await suite.db.database.rows<{ id: string; name: string; attempts: number; payload: string }>(
      sql`select id, name, attempts, payload::text as payload from task_results where id in (${ids[0]}, ${ids[1]})`,
    );
    expect(rows.map((row) => ({ ...row, payload: JSON.parse(row.payload) as unknown })).sort((a, b) => ids.indexOf(a.id) - ids.indexOf(b.id))).toEqual([
      { id: ids[0], name: 'billing.process_refund', attempts: 1, payload: { paymentIntentId: 'pi_123', amount: 1500, reason: 'requested_by_customer' } },
      { id: ids[1], name: 'billing.process_refund', attempts: 1, payload: { paymentIntentId: 'pi_456', amount: 500, reason: 'duplicate' } },
    ]);
    const refunds = await suite.db.database.rows<{ amount: number; payment_intent_id: string; task_id: string }>(
      sql`select amount::int, payment_intent_id, task_id from refunds where task_id in (${ids[0]}, ${ids[1]}) order by amount desc`,
    );
    expect(refunds).toEqual([
      { amount: 1500, payment_intent_id: 'pi_123', task_id: ids[0] },
      { amount: 500, payment_intent_id: 'pi_456', task_id: ids[1] },
    ]);
  });
});
