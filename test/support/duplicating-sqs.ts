import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/**
 * An SQS client that delivers every message it sends twice, as SQS's at-least-once delivery
 * may: each SendMessage and SendMessageBatch goes to the queue a second time. Everything
 * else passes through unchanged.
 */
export function duplicatingSqs(sqs: SQSClient): SQSClient {
  return new Proxy(sqs, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver) as unknown;
      const send = target.send.bind(target) as (command: unknown, options?: unknown) => Promise<unknown>;
      return async (command: unknown, options?: unknown) => {
        const first = await send(command, options);
        if (command instanceof SendMessageCommand || command instanceof SendMessageBatchCommand) await send(command, options);
        return first;
      };
    },
  });
}
