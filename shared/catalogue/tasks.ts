import * as z from 'zod';
import { defineTask, type RetryPolicy, type TaskDefinition } from './define.ts';

/** Retry settings of the seed, per queue. */
const retry = {
  default: { maxRetries: 3, backoffBaseSeconds: 1, backoffMaxSeconds: 60, jitter: true },
  /** "5 retries, exponential backoff up to 10 minutes" */
  ai: { maxRetries: 5, backoffBaseSeconds: 1, backoffMaxSeconds: 600, jitter: true },
  /** "3–5 retries, moderate backoff" */
  data: { maxRetries: 3, backoffBaseSeconds: 1, backoffMaxSeconds: 300, jitter: true },
  /** "10 retries, exponential backoff up to 30 minutes (critical for payments)" */
  billing: { maxRetries: 10, backoffBaseSeconds: 1, backoffMaxSeconds: 1800, jitter: true },
} as const satisfies Record<string, RetryPolicy>;

/** The seed's `task_soft_time_limit` and `task_time_limit`. */
const limits = { softTimeLimitSeconds: 240, timeLimitSeconds: 300 } as const;

/**
 * The seed's practice: rate-limit calls to external APIs. These hold across every
 * consumer. OpenAI's request limits are per organisation and tier; Stripe allows 100
 * operations a second in live mode, and the web app needs the other half.
 */
const rateLimits = { openai: '300/m', stripe: '50/s' } as const;

const userId = z.int().positive().describe('DataCleanup Pro user id');
const noArguments = z.strictObject({});
/** A verified Stripe event as the webhook forwards it: the fields the event store keys on, the rest as sent. */
const stripeEvent = z.looseObject({
  id: z.string().regex(/^evt_\w{1,250}$/),
  type: z.string().min(1).max(255),
  livemode: z.boolean(),
  created: z.int().nonnegative(),
});

export const tasks = {
  'default.noop': defineTask({
    name: 'default.noop',
    queue: 'default',
    description: 'Does nothing and returns its input: smoke tests and benchmarks',
    payload: z.strictObject({ echo: z.json().optional() }),
    retry: retry.default,
    ...limits,
  }),
  'default.cleanup_task_results': defineTask({
    name: 'default.cleanup_task_results',
    alias: 'app.tasks.maintenance_tasks.cleanup_task_results',
    queue: 'default',
    description: 'Deletes finished task results older than the retention period',
    payload: z.strictObject({
      olderThanDays: z.int().min(1).max(3650).default(30),
    }),
    retry: retry.default,
    ...limits,
  }),

  'ai.process_ai_request': defineTask({
    name: 'ai.process_ai_request',
    alias: 'app.tasks.ai_tasks.process_ai_request',
    queue: 'ai',
    description: 'Runs one LLM request for a user and stores the answer and token usage',
    payload: z.strictObject({
      userId,
      prompt: z.string().min(1).max(200_000),
      model: z.string().min(1).optional(),
      options: z.record(z.string(), z.json()).optional(),
    }),
    tenant: 'userId',
    retry: retry.ai,
    rateLimit: rateLimits.openai,
    ...limits,
  }),
  'ai.generate_embeddings': defineTask({
    name: 'ai.generate_embeddings',
    alias: 'app.tasks.ai_tasks.generate_embeddings',
    queue: 'ai',
    description: 'Embeds a stored document or a list of texts for a user',
    payload: z.union([
      z.strictObject({ userId, documentId: z.string().min(1) }),
      z.strictObject({ userId, texts: z.array(z.string().min(1)).min(1).max(2048) }),
    ]),
    tenant: 'userId',
    retry: retry.ai,
    rateLimit: rateLimits.openai,
    ...limits,
  }),

  'data.cleanup_temp_files': defineTask({
    name: 'data.cleanup_temp_files',
    alias: 'app.tasks.data_tasks.cleanup_temp_files',
    queue: 'data',
    description: 'Deletes temporary objects and expired uploads',
    payload: noArguments,
    retry: retry.data,
    ...limits,
  }),
  'data.process_file_upload': defineTask({
    name: 'data.process_file_upload',
    alias: 'app.tasks.data_tasks.process_file_upload',
    queue: 'data',
    description: 'Cleans an uploaded CSV or Excel file and writes the result and a report',
    payload: z.strictObject({ uploadId: z.string().min(1) }),
    retry: { ...retry.data, maxRetries: 5 },
    ...limits,
  }),
  'data.export_data': defineTask({
    name: 'data.export_data',
    alias: 'app.tasks.data_tasks.export_data',
    queue: 'data',
    description: "Exports one user's data to S3 and stores a presigned URL",
    payload: z.strictObject({ userId, format: z.enum(['csv', 'json', 'xlsx']) }),
    tenant: 'userId',
    // One export of a user's data at a time: a second request waits for the first rather than racing it.
    concurrency: { key: 'userId', limit: 1 },
    // A request repeated within a minute (a double click, a retried API call) is the same export.
    unique: '1m',
    dedupeKey: ['userId', 'format'],
    retry: retry.data,
    ...limits,
  }),

  'billing.process_pending_webhooks': defineTask({
    name: 'billing.process_pending_webhooks',
    alias: 'app.tasks.billing_tasks.process_pending_webhooks',
    queue: 'billing',
    description: 'Stores the Stripe event the webhook received, if any, then applies pending events to subscriptions, invoices and refunds',
    payload: z.strictObject({ event: stripeEvent.optional() }),
    retry: retry.billing,
    ...limits,
  }),
  'billing.sync_subscription_status': defineTask({
    name: 'billing.sync_subscription_status',
    alias: 'app.tasks.billing_tasks.sync_subscription_status',
    queue: 'billing',
    description: "Reads a user's subscriptions from Stripe and stores them",
    payload: z.strictObject({ userId }),
    tenant: 'userId',
    retry: retry.billing,
    rateLimit: rateLimits.stripe,
    ...limits,
  }),
  'billing.send_invoice': defineTask({
    name: 'billing.send_invoice',
    alias: 'app.tasks.billing_tasks.send_invoice',
    queue: 'billing',
    description: 'Sends a Stripe invoice to its customer',
    payload: z.strictObject({ invoiceId: z.string().min(1) }),
    retry: retry.billing,
    rateLimit: rateLimits.stripe,
    ...limits,
  }),
  'billing.process_refund': defineTask({
    name: 'billing.process_refund',
    alias: 'app.tasks.billing_tasks.process_refund',
    queue: 'billing',
    description: 'Refunds a payment, in full or in part',
    // A customer waits on it: it passes the billing queue's backlog of webhooks and syncs.
    priority: 'high',
    payload: z.strictObject({
      paymentIntentId: z.string().min(1),
      amount: z.int().positive().optional().describe('in the smallest currency unit; full refund when absent'),
      reason: z.enum(['duplicate', 'fraudulent', 'requested_by_customer']),
    }),
    retry: retry.billing,
    rateLimit: rateLimits.stripe,
    ...limits,
  }),
} as const satisfies Record<string, TaskDefinition>;

export type TaskName = keyof typeof tasks;
export type TaskPayload<N extends TaskName> = z.input<(typeof tasks)[N]['payload']>;
