import { GetObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { newEnvelope } from '../../../shared/envelope/envelope.ts';
import { sql } from 'drizzle-orm';
import type { QueueName } from '../../../shared/catalogue/index.ts';
import type { Rehearsal } from '../rehearsal.ts';
import { awaitResults, expectSucceeded, sendAll, stripeTasks, tasksOfEachQueue, userId } from '../seeds.ts';
import { failure, lastLogs, type Check } from './check.ts';

/** What each queue's tasks leave behind besides their result rows. */
const effects: Record<QueueName, (rehearsal: Rehearsal) => Promise<string | undefined>> = {
  default: async () => undefined,
  ai: async ({ database }) => {
    const [row] = await database.rows<{ answers: number; embeddings: number }>(sql`select (select count(*)::int from ai_requests where user_id = ${userId}) as answers, (select count(*)::int from embeddings where user_id = ${userId}) as embeddings`);
    return row && row.answers > 0 && row.embeddings >= 3 ? undefined : `expected an answer and 3 embeddings, found ${JSON.stringify(row)}`;
  },
  data: async ({ database }) => {
    const [upload] = await database.rows<{ status: string }>(sql`select status from uploads where id = 'up-rehearsal'`);
    const [exports] = await database.rows<{ n: number }>(sql`select count(*)::int as n from exports where user_id = ${userId}`);
    return upload?.status === 'processed' && exports?.n === 2 ? undefined : `expected the upload processed and 2 exports, found ${upload?.status} and ${exports?.n}`;
  },
  billing: async () => undefined,
};

const queueConsumers: Record<QueueName, string> = { default: 'DefaultTasksConsumer', ai: 'AiTasksConsumer', data: 'DataTasksConsumer', billing: 'BillingTasksConsumer' };

/** A consumer bundle, fed by its event source, drains a batch of each task of its queue and records it. */
export function queueDrains(queue: QueueName): Check {
  return {
    name: `the ${queue} consumer drains a batch of every task of its queue and records each`,
    timeoutMs: 90_000,
    async run(rehearsal) {
      const envelopes = tasksOfEachQueue()[queue];
      await sendAll(rehearsal, `${stage(rehearsal)}-${queue}`, envelopes);
      const rows = await awaitResults(rehearsal, envelopes.map((envelope) => envelope.id), 60_000);
      try {
        const summary = expectSucceeded(rows);
        const problem = await effects[queue](rehearsal);
        if (problem) throw new Error(problem);
        const batches = rehearsal.invocations.filter((report) => report.function === rehearsal.fn(queueConsumers[queue]).spec.name && report.records > 0);
        return `${summary}; ${batches.length} invocation(s) of up to ${Math.max(...batches.map((batch) => batch.records))} records`;
      } catch (error) {
        throw failure(`${(error as Error).message}\n  consumer log:\n${lastLogs(rehearsal, queueConsumers[queue])}`, rehearsal);
      }
    },
  };
}

/** The billing tasks that call Stripe reach a Stripe stand-in with nothing but the template's environment. */
export const stripeTasksReachTheFixture: Check = {
  name: 'the billing consumer reaches the Stripe stand-in for the tasks that call Stripe',
  timeoutMs: 60_000,
  async run(rehearsal) {
    const envelopes = stripeTasks();
    await sendAll(rehearsal, `${stage(rehearsal)}-billing`, envelopes);
    // A task that cannot reach Stripe is retried, not failed: stop waiting at its first recorded error.
    const rows = await awaitResults(rehearsal, envelopes.map((envelope) => envelope.id), 30_000, (row) => row.status === 'SUCCESS' || row.error !== null);
    const requests = rehearsal.fixtures.stripe.state.requests.length;
    try {
      return `${expectSucceeded(rows)}; the Stripe stand-in served ${requests} request(s)`;
    } catch (error) {
      const hint = requests === 0
        ? `\n  the Stripe stand-in received no request: the bundle finds Stripe at STRIPE_API_BASE (shared/billing/stripe.ts), which the rehearsal sets beside the AWS endpoints`
        : '';
      throw failure(`${(error as Error).message}${hint}`, rehearsal);
    }
  },
};

/**
 * A result too large for a Data API row is kept in the results bucket by the consumer
 * bundle, with the template's RESULTS_BUCKET and its grant on the task-results prefix,
 * and the row refers to it.
 */
export const largeResultKept: Check = {
  name: 'a 40,000-character result is kept in the results bucket, the row referring to it',
  timeoutMs: 60_000,
  async run(rehearsal) {
    const echo = 'r'.repeat(40_000);
    const envelope = newEnvelope('default.noop', { echo });
    await sendAll(rehearsal, `${stage(rehearsal)}-default`, [envelope]);
    const rows = await awaitResults(rehearsal, [envelope.id], 30_000);
    try {
      expectSucceeded(rows);
      const [row] = await rehearsal.database.rows<{ overflow_key: string | null; inline: boolean }>(sql`select overflow_key, result is not null as inline from task_results where id = ${envelope.id}`);
      if (!row?.overflow_key || row.inline) throw new Error(`expected the result in the bucket and none in the row, found ${JSON.stringify(row)}`);
      const bucket = rehearsal.fn('DefaultTasksConsumer').spec.variables.RESULTS_BUCKET;
      const object = await rehearsal.operator.s3.send(new GetObjectCommand({ Bucket: bucket, Key: row.overflow_key }));
      const kept = JSON.parse(await object.Body!.transformToString()) as { result?: { echo?: string } };
      if (kept.result?.echo !== echo) throw new Error(`the object ${row.overflow_key} does not hold the result`);
      return `kept at s3://${bucket}/${row.overflow_key}`;
    } catch (error) {
      throw failure(`${(error as Error).message}\n  consumer log:\n${lastLogs(rehearsal, 'DefaultTasksConsumer')}`, rehearsal);
    }
  },
};

/** The stage name the template's queues carry (`dev-default` → `dev`). */
export function stage(rehearsal: Rehearsal): string {
  return rehearsal.fn('DefaultTasksConsumer').spec.variables.STAGE ?? 'dev';
}

/**
 * A message no attempt can fix goes to the queue's dead-letter queue at once, sent by the
 * consumer (its own grant on the DLQ), and its sibling in the batch succeeds and is deleted.
 */
export const deadLettersAtOnce: Check = {
  name: "a malformed message is moved to its queue's dead-letter queue at once, beside a sibling that succeeds",
  timeoutMs: 60_000,
  async run(rehearsal) {
    const good = tasksOfEachQueue().default[0]!;
    const malformed = { ...good, id: `malformed-${good.id}`, payload: { unexpected: true } };
    await sendAll(rehearsal, `${stage(rehearsal)}-default`, [good, malformed]);
    expectSucceeded(await awaitResults(rehearsal, [good.id], 30_000));
    const deadLetterUrl = rehearsal.queueUrl(`${stage(rehearsal)}-default-dlq`);
    const end = Date.now() + 20_000;
    while (Date.now() < end) {
      const { Messages = [] } = await rehearsal.operator.sqs.send(new ReceiveMessageCommand({ QueueUrl: deadLetterUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }));
      const letter = Messages.find((message) => message.Body?.includes(malformed.id));
      if (letter) {
        const { Attributes = {} } = await rehearsal.operator.sqs.send(new GetQueueAttributesCommand({ QueueUrl: rehearsal.queueUrl(`${stage(rehearsal)}-default`), AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
        if (Attributes.ApproximateNumberOfMessages !== '0' || Attributes.ApproximateNumberOfMessagesNotVisible !== '0') throw failure(`the source queue still holds messages: ${JSON.stringify(Attributes)}`, rehearsal);
        return `dead-lettered with ${Object.keys(letter.MessageAttributes ?? {}).length} message attribute(s); the source queue is empty`;
      }
    }
    throw failure(`the malformed message never reached ${deadLetterUrl}\n  consumer log:\n${lastLogs(rehearsal, 'DefaultTasksConsumer')}`, rehearsal);
  },
};
