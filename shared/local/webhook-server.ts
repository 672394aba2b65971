import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { receiveStripeWebhook } from '../billing/webhook.ts';
import { readSecret } from '../secrets.ts';
import { readBody, sendJson } from './http.ts';

/**
 * The Stripe webhook endpoint on a local port, for `stripe listen --forward-to
 * localhost:4242/webhook`: the same receiver as the function URL in AWS.
 */
export async function startWebhookServer(options: { port: number; sqs: SQSClient; billingQueueUrl: string; onError?: (error: unknown) => void }): Promise<{ url: string; server: Server; stop(): Promise<void> }> {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path !== '/webhook') return sendJson(response, 404, { error: 'POST Stripe events to /webhook' });
    (async () => {
      const result = await receiveStripeWebhook(
        { method: request.method ?? 'GET', body: await readBody(request, 1024 * 1024), signature: header(request.headers['stripe-signature']) },
        {
          signingSecret: () => readSecret('stripe-webhook-secret'),
          enqueue: async (envelope) => {
            await options.sqs.send(new SendMessageCommand({ QueueUrl: options.billingQueueUrl, MessageBody: JSON.stringify(envelope) }));
          },
          ...(options.onError ? { onEnqueueError: options.onError } : {}),
        },
      );
      sendJson(response, result.status, result.body);
    })().catch((error: unknown) => {
      options.onError?.(error);
      sendJson(response, 500, { error: error instanceof Error ? error.message : String(error) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`,
    server,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
