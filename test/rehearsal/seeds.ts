import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { sql } from 'drizzle-orm';
import { newEnvelope, type Envelope } from '../../shared/envelope/envelope.ts';
import type { QueueName } from '../../shared/catalogue/index.ts';
import type { Rehearsal } from './rehearsal.ts';

/** The user every seeded task works for. */
export const userId = 7;

/** Rows and files the tasks read, written once after the migrations. */
export async function seedData(rehearsal: Rehearsal): Promise<void> {
  const { database, operator, buckets } = rehearsal;
  await database.rows(sql`insert into users (id, email, stripe_customer_id) values (${userId}, 'ada@example.com', 'cus_rehearsal') on conflict do nothing`);
  await database.rows(sql`insert into documents (id, user_id, content) values ('doc-rehearsal', ${userId}, 'A customer list of three hundred rows, cleaned weekly.') on conflict do nothing`);
  await database.rows(sql`insert into invoices (id, user_id, customer_id, status, amount_due, amount_paid, currency, stripe_updated_at) values ('in_rehearsal', ${userId}, 'cus_rehearsal', 'draft', 900, 0, 'usd', 0) on conflict do nothing`);
  await database.rows(sql`insert into uploads (id, user_id, key, filename) values ('up-rehearsal', ${userId}, 'uploads/7/customers.csv', 'customers.csv') on conflict do nothing`);
  const bucket = filesBucket(rehearsal);
  await operator.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'uploads/7/customers.csv', Body: 'Name , E-mail,Age\n Ada ,ada@example.com,36\nAda,ada@example.com,36\nBob,,41\n' }));
  await operator.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'tmp/rehearsal.txt', Body: 'temporary' }));
  if (buckets.length === 0) throw new Error('the template has no bucket');
  rehearsal.fixtures.stripe.state.subscriptions.push({ id: 'sub_rehearsal', object: 'subscription', customer: 'cus_rehearsal', status: 'active', cancel_at_period_end: false, items: { object: 'list', data: [{ price: { id: 'price_pro' }, current_period_end: 1_800_000_000 }] } });
}

/** The bucket the data consumer is given (FILES_BUCKET in its template environment). */
export function filesBucket(rehearsal: Rehearsal): string {
  const bucket = rehearsal.fn('DataTasksConsumer').spec.variables.FILES_BUCKET;
  if (!bucket) throw new Error('the data consumer has no FILES_BUCKET');
  return bucket;
}

/** One envelope of every task of each queue (the Stripe-calling billing tasks apart), as other services would send them. */
export function tasksOfEachQueue(): Record<QueueName, Envelope[]> {
  const run = (task: string, payload: Record<string, unknown>) => newEnvelope(task, payload);
  return {
    default: [run('default.noop', { echo: 'rehearsal' }), run('default.cleanup_task_results', { olderThanDays: 30 })],
    ai: [
      run('ai.process_ai_request', { userId, prompt: 'Summarise the uploaded customer list.' }),
      run('ai.generate_embeddings', { userId, texts: ['first text', 'second text'] }),
      run('ai.generate_embeddings', { userId, documentId: 'doc-rehearsal' }),
    ],
    data: [
      run('data.process_file_upload', { uploadId: 'up-rehearsal' }),
      run('data.export_data', { userId, format: 'csv' }),
      run('data.export_data', { userId, format: 'xlsx' }),
      run('data.cleanup_temp_files', {}),
    ],
    billing: [run('billing.process_pending_webhooks', {})],
  };
}

/** The billing tasks that call Stripe's API. */
export function stripeTasks(): Envelope[] {
  return [
    newEnvelope('billing.sync_subscription_status', { userId }),
    newEnvelope('billing.send_invoice', { invoiceId: 'in_rehearsal' }),
    newEnvelope('billing.process_refund', { paymentIntentId: 'pi_rehearsal', reason: 'duplicate' }),
  ];
}

/** Sends envelopes in one SendMessageBatch, so a consumer receives them as one batch where its batch size allows. */
export async function sendAll(rehearsal: Rehearsal, queueName: string, envelopes: readonly Envelope[]): Promise<void> {
  const response = await rehearsal.operator.sqs.send(new SendMessageBatchCommand({
    QueueUrl: rehearsal.queueUrl(queueName),
    Entries: envelopes.map((envelope, index) => ({ Id: `m${index}`, MessageBody: JSON.stringify(envelope) })),
  }));
  if (response.Failed?.length) throw new Error(`SendMessageBatch to ${queueName} failed: ${JSON.stringify(response.Failed)}`);
}

export interface ResultRow {
  readonly id: string;
  readonly name: string;
  readonly status: string;
  readonly result: string | null;
  readonly error: string | null;
  readonly attempts: number;
}

/** The task_results rows of these ids once every one is finished (or `until` says so), else the rows as they are. */
export async function awaitResults(rehearsal: Rehearsal, ids: readonly string[], timeoutMs: number, until = (row: ResultRow) => ['SUCCESS', 'FAILURE', 'REVOKED'].includes(row.status)): Promise<ResultRow[]> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const rows = await rehearsal.database.rows<ResultRow>(sql`select id, name, status, result::text as result, error, attempts from task_results where id in ${sql`(${sql.join(ids.map((id) => sql`${id}`), sql`, `)})`}`);
    if ((rows.length === ids.length && rows.every(until)) || Date.now() > end) return ids.map((id) => rows.find((row) => row.id === id) ?? { id, name: '?', status: 'NOT RECORDED', result: null, error: null, attempts: 0 });
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

/** Throws unless every row succeeded, naming the ones that did not. */
export function expectSucceeded(rows: readonly ResultRow[]): string {
  const failed = rows.filter((row) => row.status !== 'SUCCESS');
  if (failed.length > 0) throw new Error(failed.map((row) => `${row.name} ${row.id}: ${row.status}${row.error ? ` — ${row.error.slice(0, 300)}` : ''} (attempts ${row.attempts})`).join('\n'));
  return rows.map((row) => `${row.name}: SUCCESS`).join(', ');
}
