import { randomBytes } from 'node:crypto';

/** A Stripe object as the API returns it. */
export type Json = Record<string, unknown>;

export interface StripeAnswer {
  readonly status: number;
  readonly body: Json;
  /** What changed, as the events Stripe would send for it: `{ type: 'invoice.sent', object }`. */
  readonly events?: readonly { type: string; object: Json }[];
}

/** The test-mode objects one stand-in holds, in creation order; tests push their own too. */
export interface StripeStore {
  readonly customers: Json[];
  readonly subscriptions: Json[];
  readonly invoiceItems: Json[];
  readonly invoices: Json[];
  readonly paymentIntents: Json[];
  readonly refunds: Json[];
  /** Ids of the invoices sent, in order. */
  readonly invoicesSent: string[];
}

export interface StripeRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly form: Json;
}

export function emptyStore(): StripeStore {
  return { customers: [], subscriptions: [], invoiceItems: [], invoices: [], paymentIntents: [], refunds: [], invoicesSent: [] };
}

const now = () => Math.floor(Date.now() / 1000);
/** A month from now, as a fresh subscription's period ends. */
const periodEnd = () => now() + 30 * 24 * 3600;

/**
 * The part of Stripe's API the billing tasks and a developer seeding them use: customers,
 * subscriptions, invoice items and invoices (create, finalize, send, pay), payment intents
 * (created confirmed) and refunds. With `impliedObjects`, an id the store has never seen
 * but of the right kind (`in_…`, `pi_…`) is taken as an object that exists: the tests name
 * ids they never created.
 */
export function stripeObjects(store: StripeStore, options: { impliedObjects?: boolean } = {}) {
  let sequence = 0;
  // A tag of its own per start: objects of an earlier run are still rows in the result store.
  const run = randomBytes(4).toString('hex');
  const newId = (prefix: string) => `${prefix}_local${run}${String(++sequence).padStart(4, '0')}`;
  const find = (list: Json[], id: string) => list.find((object) => object.id === id);

  const invoice = (id: string): Json | undefined => {
    const found = find(store.invoices, id);
    if (found || !options.impliedObjects || !id.startsWith('in_')) return found;
    const implied = { id, object: 'invoice', customer: null, status: 'draft', amount_due: 0, amount_paid: 0, currency: 'usd', hosted_invoice_url: null, livemode: false, created: now() };
    store.invoices.push(implied);
    return implied;
  };
  const paymentIntent = (id: string): Json | undefined => {
    const found = find(store.paymentIntents, id);
    if (found || !options.impliedObjects || !id.startsWith('pi_')) return found;
    const implied = { id, object: 'payment_intent', amount: 5000, amount_received: 5000, currency: 'usd', customer: null, status: 'succeeded', latest_charge: newId('ch'), livemode: false, created: now() };
    store.paymentIntents.push(implied);
    return implied;
  };
  const customer = (id: unknown) => (typeof id === 'string' ? find(store.customers, id) : undefined);

  return function handle({ method, path, query, form }: StripeRequest): StripeAnswer {
    const [, version, resource, id, action] = path.split('/');
    if (version !== 'v1') return notFound(method, path);

    if (resource === 'customers' && method === 'POST' && !id) {
      const created = { id: newId('cus'), object: 'customer', email: form.email ?? null, name: form.name ?? null, metadata: form.metadata ?? {}, livemode: false, created: now() };
      store.customers.push(created);
      return { status: 200, body: created, events: [{ type: 'customer.created', object: created }] };
    }
    if (resource === 'customers' && method === 'GET' && id) return found(customer(id), 'customer', id);

    if (resource === 'subscriptions' && method === 'GET' && !id) {
      const all = store.subscriptions.filter((s) => !query.get('customer') || s.customer === query.get('customer'));
      return { status: 200, body: page(all, '/v1/subscriptions', query) };
    }
    if (resource === 'subscriptions' && method === 'POST' && !id) {
      if (!customer(form.customer)) return missing('customer', form.customer);
      const items = Object.values((form.items ?? {}) as Record<string, Json>);
      const created = {
        id: newId('sub'), object: 'subscription', customer: form.customer, status: 'active', cancel_at_period_end: false, livemode: false, created: now(), metadata: form.metadata ?? {},
        items: { object: 'list', data: items.map((item) => ({ id: newId('si'), object: 'subscription_item', price: { id: item.price, object: 'price' }, quantity: Number(item.quantity ?? 1), current_period_end: periodEnd() })) },
      };
      store.subscriptions.push(created);
      return { status: 200, body: created, events: [{ type: 'customer.subscription.created', object: created }] };
    }
    if (resource === 'subscriptions' && id) {
      const subscription = find(store.subscriptions, id);
      if (!subscription) return missing('subscription', id, 404);
      if (method === 'GET') return { status: 200, body: subscription };
      if (method === 'DELETE') {
        Object.assign(subscription, { status: 'canceled', canceled_at: now() });
        return { status: 200, body: subscription, events: [{ type: 'customer.subscription.deleted', object: subscription }] };
      }
    }

    if (resource === 'invoiceitems' && method === 'POST' && !id) {
      if (!customer(form.customer)) return missing('customer', form.customer);
      const created = { id: newId('ii'), object: 'invoiceitem', customer: form.customer, amount: Number(form.amount ?? 0), currency: form.currency ?? 'usd', description: form.description ?? null, invoice: null, livemode: false };
      store.invoiceItems.push(created);
      return { status: 200, body: created };
    }
    if (resource === 'invoices' && method === 'POST' && !id) {
      if (!customer(form.customer)) return missing('customer', form.customer);
      const created: Json = { id: newId('in'), object: 'invoice', customer: form.customer, status: 'draft', amount_due: 0, amount_paid: 0, currency: 'usd', hosted_invoice_url: null, livemode: false, created: now() };
      // A new invoice takes the customer's pending invoice items, as Stripe's does by default.
      for (const item of store.invoiceItems.filter((i) => i.customer === form.customer && i.invoice === null)) {
        item.invoice = created.id;
        created.amount_due = Number(created.amount_due) + Number(item.amount);
        created.currency = item.currency;
      }
      store.invoices.push(created);
      return { status: 200, body: created, events: [{ type: 'invoice.created', object: created }] };
    }
    if (resource === 'invoices' && id) {
      const target = invoice(id);
      if (!target) return missing('invoice', id, 404);
      if (method === 'GET' && !action) return { status: 200, body: target };
      if (method === 'POST' && (action === 'finalize' || action === 'send' || action === 'pay')) return invoiceAction(store, target, action);
    }

    if (resource === 'payment_intents' && method === 'POST' && !id) {
      const amount = Number(form.amount);
      if (!Number.isInteger(amount) || amount <= 0) return invalid('parameter_invalid_integer', 'Invalid integer: amount must be a positive integer in the smallest currency unit');
      // Test mode with a test card: confirmed at once, so it can be refunded.
      const created = { id: newId('pi'), object: 'payment_intent', amount, amount_received: amount, currency: form.currency ?? 'usd', customer: form.customer ?? null, status: 'succeeded', latest_charge: newId('ch'), livemode: false, created: now() };
      store.paymentIntents.push(created);
      return { status: 200, body: created, events: [{ type: 'payment_intent.succeeded', object: created }] };
    }
    if (resource === 'payment_intents' && method === 'GET' && id) return found(paymentIntent(id), 'payment_intent', id);

    if (resource === 'refunds' && method === 'POST' && !id) {
      const intent = typeof form.payment_intent === 'string' ? paymentIntent(form.payment_intent) : undefined;
      if (!intent) return missing('payment_intent', form.payment_intent);
      const refunded = store.refunds.filter((r) => r.payment_intent === intent.id).reduce((sum, r) => sum + Number(r.amount), 0);
      const amount = form.amount === undefined ? Number(intent.amount) - (options.impliedObjects ? 0 : refunded) : Number(form.amount);
      // An implied payment intent has no real amount to hold refunds to: tests refund the same made-up id again and again.
      if (!options.impliedObjects && (amount <= 0 || refunded + amount > Number(intent.amount))) {
        return invalid('amount_too_large', `Refund amount (${amount}) is greater than the unrefunded amount on the charge (${Number(intent.amount) - refunded})`);
      }
      const refund = { id: newId('re'), object: 'refund', amount, currency: intent.currency, payment_intent: intent.id, charge: intent.latest_charge, reason: form.reason ?? null, status: 'succeeded', created: now() };
      store.refunds.push(refund);
      const refunds = store.refunds.filter((r) => r.payment_intent === intent.id);
      const charge = {
        id: intent.latest_charge, object: 'charge', amount: intent.amount, amount_refunded: refunded + amount, refunded: refunded + amount === Number(intent.amount),
        currency: intent.currency, payment_intent: intent.id, customer: intent.customer, livemode: false, refunds: { object: 'list', data: refunds, has_more: false },
      };
      return { status: 200, body: refund, events: [{ type: 'refund.created', object: refund }, { type: 'charge.refunded', object: charge }] };
    }
    return notFound(method, path);
  };
}

function invoiceAction(store: StripeStore, invoice: Json, action: 'finalize' | 'send' | 'pay'): StripeAnswer {
  const events: { type: string; object: Json }[] = [];
  if (invoice.status === 'draft') {
    Object.assign(invoice, { status: 'open', hosted_invoice_url: `https://invoice.stripe.com/i/local/${String(invoice.id)}` });
    events.push({ type: 'invoice.finalized', object: { ...invoice } });
  } else if (action === 'finalize') {
    return invalid('invoice_not_editable', `This invoice is already finalized, you can't re-finalize a non-draft invoice.`);
  }
  if (action === 'send') {
    store.invoicesSent.push(String(invoice.id));
    events.push({ type: 'invoice.sent', object: { ...invoice } });
  }
  if (action === 'pay') {
    if (invoice.status === 'paid') return invalid('invoice_already_paid', 'Invoice is already paid');
    Object.assign(invoice, { status: 'paid', amount_paid: invoice.amount_due });
    events.push({ type: 'invoice.paid', object: { ...invoice } });
  }
  return { status: 200, body: invoice, events };
}

/** A list page as Stripe pages: `limit` (10) from after `starting_after`. */
function page(all: Json[], url: string, query: URLSearchParams): Json {
  const limit = Number(query.get('limit') ?? 10);
  const after = query.get('starting_after');
  const start = after ? all.findIndex((object) => object.id === after) + 1 : 0;
  return { object: 'list', url, has_more: start + limit < all.length, data: all.slice(start, start + limit) };
}

function found(object: Json | undefined, kind: string, id: string): StripeAnswer {
  return object ? { status: 200, body: object } : missing(kind, id, 404);
}

export function stripeError(status: number, type: string, code: string | undefined, message: string, param?: string): StripeAnswer {
  return { status, body: { error: { type, ...(code ? { code } : {}), ...(param ? { param } : {}), message } } };
}

/** Stripe answers 404 for an id in the path, 400 for one among the parameters. */
function missing(kind: string, id: unknown, status = 400): StripeAnswer {
  return stripeError(status, 'invalid_request_error', 'resource_missing', `No such ${kind}: '${String(id)}'`);
}

function invalid(code: string, message: string): StripeAnswer {
  return stripeError(400, 'invalid_request_error', code, message);
}

function notFound(method: string, path: string): StripeAnswer {
  return stripeError(404, 'invalid_request_error', undefined, `Unrecognized request URL (${method}: ${path})`);
}
