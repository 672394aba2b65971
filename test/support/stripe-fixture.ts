import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

type Json = Record<string, unknown>;

/**
 * A local server speaking the part of Stripe's REST API the billing tasks use — form
 * bodies, `Idempotency-Key` replays, list pagination, Stripe's error objects — so the
 * official SDK runs unchanged against it.
 */
export async function startStripeFixture() {
  const state = {
    subscriptions: [] as Json[],
    refunds: [] as Json[],
    invoicesSent: [] as string[],
    requests: [] as { method: string; path: string; idempotencyKey: string | undefined }[],
    /** Answers for the next requests, before any real handling: e.g. `{ status: 500 }`, `{ status: 429, retryAfter: 7 }`. */
    failures: [] as { status: number; type?: string; code?: string; retryAfter?: number; afterHandling?: boolean }[],
  };
  const replays = new Map<string, { status: number; body: Json }>();
  let sequence = 0;

  const handle = (method: string, path: string, url: URL, form: URLSearchParams): { status: number; body: Json } => {
    if (method === 'GET' && path === '/v1/subscriptions') {
      const customer = url.searchParams.get('customer');
      const limit = Number(url.searchParams.get('limit') ?? 10);
      const after = url.searchParams.get('starting_after');
      const all = state.subscriptions.filter((s) => s.customer === customer);
      const start = after ? all.findIndex((s) => s.id === after) + 1 : 0;
      const data = all.slice(start, start + limit);
      return { status: 200, body: { object: 'list', url: '/v1/subscriptions', has_more: start + limit < all.length, data } };
    }
    const send = /^\/v1\/invoices\/([^/]+)\/send$/.exec(path);
    if (method === 'POST' && send) {
      state.invoicesSent.push(send[1]!);
      return { status: 200, body: { id: send[1], object: 'invoice', status: 'open' } };
    }
    if (method === 'POST' && path === '/v1/refunds') {
      const paymentIntent = form.get('payment_intent');
      if (!paymentIntent?.startsWith('pi_')) return error(400, 'invalid_request_error', 'resource_missing', `No such payment_intent: '${paymentIntent}'`);
      const refund = {
        id: `re_${++sequence}`,
        object: 'refund',
        amount: Number(form.get('amount') ?? 5000),
        currency: 'usd',
        payment_intent: paymentIntent,
        charge: `ch_${sequence}`,
        reason: form.get('reason'),
        status: 'succeeded',
        created: Math.floor(Date.now() / 1000),
      };
      state.refunds.push(refund);
      return { status: 200, body: refund };
    }
    return error(404, 'invalid_request_error', 'resource_missing', `Unrecognized request URL (${method}: ${path})`);
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const method = request.method ?? 'GET';
      const idempotencyKey = request.headers['idempotency-key'] as string | undefined;
      state.requests.push({ method, path: url.pathname, idempotencyKey });
      const reply = ({ status, body }: { status: number; body: Json }, headers: Record<string, string> = {}) => {
        response.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_${sequence}`, ...headers });
        response.end(JSON.stringify(body));
      };
      if (!String(request.headers.authorization ?? '').startsWith('Bearer sk_test_')) return reply(error(401, 'invalid_request_error', undefined, 'Invalid API Key provided'));
      const failure = state.failures.shift();
      if (failure?.afterHandling) {
        // Stripe did the work, but the answer is lost on the way back.
        const result = handle(method, url.pathname, url, new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
        if (idempotencyKey && method === 'POST') replays.set(idempotencyKey, result);
        return reply(error(failure.status, 'api_error', undefined, 'injected after handling'));
      }
      if (failure) {
        const type = failure.type ?? (failure.status === 429 ? 'rate_limit_error' : failure.status >= 500 ? 'api_error' : 'invalid_request_error');
        return reply(error(failure.status, type, failure.code, `injected ${failure.status}`), failure.retryAfter ? { 'retry-after': String(failure.retryAfter) } : {});
      }
      const replay = idempotencyKey ? replays.get(idempotencyKey) : undefined;
      if (replay) return reply(replay, { 'idempotent-replayed': 'true' });
      const result = handle(method, url.pathname, url, new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      if (idempotencyKey && method === 'POST') replays.set(idempotencyKey, result);
      reply(result);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    state,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function error(status: number, type: string, code: string | undefined, message: string): { status: number; body: Json } {
  return { status, body: { error: { type, ...(code ? { code } : {}), message } } };
}
