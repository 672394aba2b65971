import { sql } from 'drizzle-orm';
import type Stripe from 'stripe';
import type { Database, Transaction } from '../results/database.ts';

/** Events whose failures we stop retrying after this many runs; they stay `failed` for a person. */
export const maxEventAttempts = 10;
/** Events claimed by one run; the next run (or the next schedule tick) takes the rest. */
const eventsPerRun = 50;

export interface WebhookRun {
  readonly processed: number;
  readonly failed: number;
  readonly ignored: number;
}

/** Stores a verified event once by its id as pending; a redelivered event changes nothing. */
export async function storeStripeEvent(database: Database, event: { id: string; type: string; livemode: boolean; created: number }): Promise<boolean> {
  const inserted = await database.rows<{ id: string }>(sql`
    insert into stripe_events (id, type, livemode, payload, stripe_created_at)
    values (${event.id}, ${event.type}, ${event.livemode}, ${JSON.stringify(event)}::jsonb, to_timestamp(${event.created}::bigint))
    on conflict (id) do nothing
    returning id`);
  return inserted.length > 0;
}

/**
 * Applies pending Stripe events, oldest first. Events are claimed with
 * `FOR UPDATE SKIP LOCKED`, so runs at the same time never apply one twice; each event is
 * applied in a savepoint, so one bad event fails alone and is retried by later runs.
 */
export async function applyPendingEvents(database: Database): Promise<WebhookRun> {
  return database.transaction(async (tx) => {
    const pending = await tx.rows<{ id: string; type: string; payload: string }>(sql`
      select id, type, payload::text as payload from stripe_events
      where status = 'pending'
      order by stripe_created_at, id
      limit ${eventsPerRun}::int
      for update skip locked`);
    let processed = 0;
    let failed = 0;
    let ignored = 0;
    for (const row of pending) {
      const event = JSON.parse(row.payload) as Stripe.Event;
      try {
        const applied = await tx.savepoint((inner) => applyEvent(inner, event));
        if (!applied) ignored++;
        processed++;
        await tx.rows(sql`update stripe_events set status = 'processed', attempts = attempts + 1, processed_at = now(), last_error = null where id = ${row.id}`);
      } catch (error) {
        failed++;
        await tx.rows(sql`
          update stripe_events set attempts = attempts + 1, last_error = ${String((error as Error).message ?? error).slice(0, 2000)},
            status = case when attempts + 1 >= ${maxEventAttempts}::int then 'failed' else 'pending' end
          where id = ${row.id}`);
      }
    }
    return { processed, failed, ignored };
  });
}

/** Applies one event; false when its type is not one we keep. */
async function applyEvent(tx: Transaction, event: Stripe.Event): Promise<boolean> {
  if (event.type.startsWith('customer.subscription.')) {
    await upsertSubscription(tx, event.data.object as Stripe.Subscription, event.created, event.type === 'customer.subscription.deleted');
    return true;
  }
  if (event.type.startsWith('invoice.')) {
    await upsertInvoice(tx, event.data.object as Stripe.Invoice, event.created);
    return true;
  }
  if (event.type === 'charge.refunded') {
    const charge = event.data.object as Stripe.Charge;
    for (const refund of charge.refunds?.data ?? []) await upsertRefund(tx, refund, null);
    return true;
  }
  return false;
}

const customerOf = (customer: string | { id: string } | null | undefined) => (typeof customer === 'string' ? customer : (customer?.id ?? ''));

/** Newer Stripe state wins: an event older than what is stored changes nothing. */
export async function upsertSubscription(tx: Pick<Transaction, 'rows'>, subscription: Stripe.Subscription, stripeUpdatedAt: number, deleted = false): Promise<void> {
  const customer = customerOf(subscription.customer);
  const item = subscription.items?.data?.[0];
  const periodEnd = item?.current_period_end ?? (subscription as unknown as { current_period_end?: number }).current_period_end ?? null;
  await tx.rows(sql`
    insert into subscriptions as s (id, user_id, customer_id, status, price_id, current_period_end, cancel_at_period_end, stripe_updated_at, updated_at)
    values (${subscription.id}, (select id from users where stripe_customer_id = ${customer}), ${customer}, ${deleted ? 'canceled' : subscription.status},
      ${item?.price?.id ?? null}, ${periodEnd === null ? null : new Date(periodEnd * 1000).toISOString()}::timestamptz,
      ${subscription.cancel_at_period_end ?? false}, ${stripeUpdatedAt}::bigint, now())
    on conflict (id) do update set status = excluded.status, price_id = excluded.price_id, current_period_end = excluded.current_period_end,
      cancel_at_period_end = excluded.cancel_at_period_end, user_id = coalesce(excluded.user_id, s.user_id),
      stripe_updated_at = excluded.stripe_updated_at, updated_at = now()
    where s.stripe_updated_at <= excluded.stripe_updated_at`);
}

async function upsertInvoice(tx: Transaction, invoice: Stripe.Invoice, stripeUpdatedAt: number): Promise<void> {
  const customer = customerOf(invoice.customer);
  await tx.rows(sql`
    insert into invoices as i (id, user_id, customer_id, status, amount_due, amount_paid, currency, hosted_invoice_url, stripe_updated_at, updated_at)
    values (${invoice.id ?? ''}, (select id from users where stripe_customer_id = ${customer}), ${customer}, ${invoice.status ?? 'draft'},
      ${invoice.amount_due}::bigint, ${invoice.amount_paid}::bigint, ${invoice.currency}, ${invoice.hosted_invoice_url ?? null}, ${stripeUpdatedAt}::bigint, now())
    on conflict (id) do update set status = excluded.status, amount_due = excluded.amount_due, amount_paid = excluded.amount_paid,
      hosted_invoice_url = excluded.hosted_invoice_url, stripe_updated_at = excluded.stripe_updated_at, updated_at = now()
    where i.stripe_updated_at <= excluded.stripe_updated_at`);
}

export async function upsertRefund(tx: Pick<Transaction, 'rows'>, refund: Stripe.Refund, taskId: string | null): Promise<void> {
  const paymentIntent = typeof refund.payment_intent === 'string' ? refund.payment_intent : (refund.payment_intent?.id ?? null);
  const charge = typeof refund.charge === 'string' ? refund.charge : (refund.charge?.id ?? null);
  await tx.rows(sql`
    insert into refunds as r (id, payment_intent_id, charge_id, amount, currency, status, reason, task_id)
    values (${refund.id}, ${paymentIntent}, ${charge}, ${refund.amount}::bigint, ${refund.currency}, ${refund.status ?? 'pending'}, ${refund.reason ?? null}, ${taskId})
    on conflict (id) do update set status = excluded.status, task_id = coalesce(r.task_id, excluded.task_id)`);
}
