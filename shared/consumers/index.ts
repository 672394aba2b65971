import type { QueueName } from '../catalogue/index.ts';
import type { Environment } from '../config.ts';
import type { QueueConsumerOverrides } from '../runtime/queue-consumer.ts';
import type { SqsHandler } from '../local/poller.ts';

/** Builds one queue's consumer handler from an environment, as `functions/consumer-<queue>.ts` does with the process's. */
export type ConsumerFactory = (env: Environment, overrides?: QueueConsumerOverrides) => SqsHandler;

/**
 * Each queue's consumer factory, loaded on demand: one machine running every queue (the
 * local cloud, a harness) builds them from an environment of its own, while a Lambda
 * bundle imports only its queue's file, and so only its queue's SDKs.
 */
export const consumerFactories: { readonly [Queue in QueueName]: () => Promise<ConsumerFactory> } = {
  default: async () => (await import('./default.ts')).defaultConsumer,
  ai: async () => (await import('./ai.ts')).aiConsumer,
  billing: async () => (await import('./billing.ts')).billingConsumer,
  data: async () => (await import('./data.ts')).dataConsumer,
};
