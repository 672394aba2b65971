import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { receiveStripeWebhook } from '../billing/webhook.ts';
import { readSecret } from '../secrets.ts';
import type { Environment } from '../config.ts';
import { guardedListener, isAllowedHost, isFromBrowser, requestUrl } from './guard.ts';
import { HttpError, readBody, sendJson } from './http.ts';

/**
 * The Stripe webhook endpoint on a local port, for `stripe listen --forward-to
 * localhost:4242/webhook`: the same receiver as the function URL in AWS.
 */
export async function startWebhookServer(options: {
  port: number;
  /** The address to listen on (`listenHost`). */
  host: string;
  sqs: SQSClient;
  billingQueueUrl: string;
  /** Where the signing secret is read from (`STRIPE_WEBHOOK_SECRET`, or `…_SECRET_ID`). */
  env: Environment;
  onError?: (error: unknown) => void;
}): Promise<{ url: string; server: Server; stop(): Promise<void> }> {
  const { host } = options;
  const server = createServer(guardedListener(async (request, response) => {
    if (!isAllowedHost(request.headers.host, host)) return sendJson(response, 403, { error: `this receiver answers only for ${host} and localhost` });
    // The Stripe CLI forwards events as a tool does; a browser has no business here.
    if (isFromBrowser(request)) return sendJson(response, 403, { error: 'browsers cannot post to the webhook receiver' });
    if (requestUrl(request)?.pathname !== '/webhook') return sendJson(response, 404, { error: 'POST Stripe events to /webhook' });
    let body: string;
    try {
      body = await readBody(request, 1024 * 1024);
    } catch (error) {
      if (error instanceof HttpError) return sendJson(response, error.status, { error: error.message });
      throw error;
    }
    const result = await receiveStripeWebhook(
      { method: request.method ?? 'GET', body, signature: header(request.headers['stripe-signature']) },
      {
        signingSecret: () => readSecret('stripe-webhook-secret', options.env),
        enqueue: async (envelope) => {
          await options.sqs.send(new SendMessageCommand({ QueueUrl: options.billingQueueUrl, MessageBody: JSON.stringify(envelope) }));
        },
        ...(options.onError ? { onEnqueueError: options.onError } : {}),
      },
    );
    sendJson(response, result.status, result.body);
  }, (response, status, message) => sendJson(response, status, { error: message }), options.onError));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, resolve);
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
