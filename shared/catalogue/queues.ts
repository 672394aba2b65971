import { defineQueue } from './define.ts';

/**
 * The seed's four Celery queues. Concurrency follows its production workers
 * (default+data 4, ai 2, billing 1); the event source mapping's floor is 2, so billing
 * is serialised by idempotency keys rather than by concurrency.
 */
export const queues = {
  default: defineQueue({
    name: 'default',
    oldestMessageAlarmSeconds: 900,
    description: 'General low-priority background work',
    timeoutSeconds: 300,
    batchSize: 10,
    batchingWindowSeconds: 1,
    maxConcurrency: 4,
    memoryMb: 512,
  }),
  ai: defineQueue({
    name: 'ai',
    oldestMessageAlarmSeconds: 1800,
    description: 'LLM requests and embeddings',
    timeoutSeconds: 300,
    batchSize: 5,
    batchingWindowSeconds: 0,
    maxConcurrency: 2,
    memoryMb: 512,
  }),
  data: defineQueue({
    name: 'data',
    oldestMessageAlarmSeconds: 1800,
    description: 'File uploads, exports and clean-up',
    timeoutSeconds: 300,
    // One file at a time keeps a large upload's memory to itself.
    batchSize: 1,
    batchingWindowSeconds: 0,
    maxConcurrency: 4,
    memoryMb: 1024,
  }),
  billing: defineQueue({
    name: 'billing',
    oldestMessageAlarmSeconds: 600,
    description: 'Stripe webhooks, subscriptions, invoices and refunds',
    timeoutSeconds: 300,
    batchSize: 10,
    batchingWindowSeconds: 0,
    maxConcurrency: 2,
    memoryMb: 512,
  }),
} as const;

export type QueueName = keyof typeof queues;
export const queueNames = Object.keys(queues) as QueueName[];
