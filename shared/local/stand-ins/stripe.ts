import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { emptyStore, stripeError, stripeObjects, type Json, type StripeAnswer, type StripeStore } from './stripe-objects.ts';
import { stripeEvent, webhookDeliveries, type WebhookTarget } from './stripe-webhooks.ts';

export interface StripeStandInOptions {
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** @default 0 (a free port) */
  readonly port?: number;
  /** Take a well-formed id never created as an object that exists (the tests' fixture). @default false */
  readonly impliedObjects?: boolean;
  /** Keep every request in `state.requests`, for a test to read. @default false */
  readonly recordRequests?: boolean;
  /** Where a webhook delivery that kept failing is reported. */
  readonly onError?: (error: unknown) => void;
}

export interface StripeStandIn {
  /** What `STRIPE_API_BASE` is set to. */
  readonly url: string;
  readonly state: StripeStore & {
    readonly requests: { method: string; path: string; idempotencyKey: string | undefined }[];
    /** Answers for the next requests, before any real handling: e.g. `{ status: 500 }`, `{ status: 429, retryAfter: 7 }`. */
    readonly failures: { status: number; type?: string; code?: string; retryAfter?: number; afterHandling?: boolean }[];
    /** The events the webhook receiver accepted, in order. */
    readonly delivered: Json[];
  };
  /** From now on, every change is sent as a signed event to this receiver. */
  deliverWebhooksTo(target: WebhookTarget): void;
  /** Resolves once the deliveries under way have ended. */
  webhooksSettled(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A server speaking the part of Stripe's REST API the billing tasks use, in test mode
 * (any `sk_test_` key): form bodies, `Idempotency-Key` replays, list pagination, Stripe's
 * error objects, and a signed webhook event for each change, so the official SDK and the
 * local webhook receiver run unchanged against it. The local cloud's stand-in when no
 * Stripe key is set, and the tests' fixture.
 */
export async function startStripeStandIn(options: StripeStandInOptions = {}): Promise<StripeStandIn> {
  const webhooks = webhookDeliveries(options.onError ?? ((error) => console.error(error)));
  const state: StripeStandIn['state'] = { ...emptyStore(), requests: [], failures: [], delivered: webhooks.delivered };
  const handle = stripeObjects(state, { impliedObjects: options.impliedObjects ?? false });
  // What a key first answered, and a digest of what it was sent with: Stripe refuses the key with other parameters.
  const replays = new Map<string, { digest: string; answer: StripeAnswer }>();
  let requestCount = 0;

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const method = request.method ?? 'GET';
      const idempotencyKey = request.headers['idempotency-key'] as string | undefined;
      const requestId = `req_local${++requestCount}`;
      const body = Buffer.concat(chunks).toString('utf8');
      if (options.recordRequests) state.requests.push({ method, path: url.pathname, idempotencyKey });
      const reply = ({ status, body: answer }: StripeAnswer, headers: Record<string, string> = {}) => {
        response.writeHead(status, { 'content-type': 'application/json', 'request-id': requestId, ...headers });
        response.end(JSON.stringify(answer));
      };
      const run = (): StripeAnswer => {
        const answer = handle({ method, path: url.pathname, query: url.searchParams, form: parseForm(new URLSearchParams(body)) });
        webhooks.send((answer.events ?? []).map((event) => stripeEvent(event.type, event.object, { id: requestId, idempotencyKey })));
        return answer;
      };
      const digest = `${method} ${url.pathname} ${createHash('sha256').update(body).digest('hex')}`;
      const remember = (answer: StripeAnswer) => {
        // Stripe keeps a key's answer unless the request never ran (a 4xx on its parameters is kept too).
        if (idempotencyKey && method === 'POST' && answer.status !== 429) replays.set(idempotencyKey, { digest, answer });
      };

      if (!String(request.headers.authorization ?? '').startsWith('Bearer sk_test_')) return reply(stripeError(401, 'invalid_request_error', undefined, 'Invalid API Key provided'));
      const failure = state.failures.shift();
      if (failure?.afterHandling) {
        // Stripe did the work, but the answer is lost on the way back.
        remember(run());
        return reply(stripeError(failure.status, 'api_error', undefined, 'injected after handling'));
      }
      if (failure) {
        const type = failure.type ?? (failure.status === 429 ? 'rate_limit_error' : failure.status >= 500 ? 'api_error' : 'invalid_request_error');
        return reply(stripeError(failure.status, type, failure.code, `injected ${failure.status}`), failure.retryAfter ? { 'retry-after': String(failure.retryAfter) } : {});
      }
      const replay = idempotencyKey && method === 'POST' ? replays.get(idempotencyKey) : undefined;
      if (replay && replay.digest !== digest) {
        return reply(stripeError(400, 'idempotency_error', undefined, `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`));
      }
      if (replay) return reply(replay.answer, { 'idempotent-replayed': 'true', 'original-request': requestId });
      const answer = run();
      remember(answer);
      reply(answer);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    state,
    deliverWebhooksTo: (target) => webhooks.deliverTo(target),
    webhooksSettled: () => webhooks.settled(),
    stop: () => new Promise<void>((resolve) => {
      webhooks.close();
      server.close(() => resolve());
      // The SDK keeps its sockets alive: without this, close waits for them to time out.
      server.closeIdleConnections();
    }),
  };
}

/**
 * Stripe's form encoding read back into objects: `items[0][price]=p` → `{ items: { 0: { price: 'p' } } }`,
 * `metadata[plan]=pro` → `{ metadata: { plan: 'pro' } }`.
 */
export function parseForm(form: URLSearchParams): Json {
  const root: Json = Object.create(null) as Json;
  for (const [key, value] of form) {
    const [head, ...rest] = key.split('[').map((part) => part.replace(/\]$/, ''));
    const path = [head!, ...rest];
    // Names that would reach Object.prototype are not Stripe parameters.
    if (path.some((part) => part === '__proto__' || part === 'constructor' || part === 'prototype')) continue;
    let node = root;
    for (const part of path.slice(0, -1)) {
      if (typeof node[part] !== 'object' || node[part] === null) node[part] = Object.create(null) as Json;
      node = node[part] as Json;
    }
    node[path.at(-1)!] = value;
  }
  return root;
}
