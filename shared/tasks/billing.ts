import { sql } from 'drizzle-orm';
import { tasks } from '../catalogue/index.ts';
import { PermanentError } from '../errors.ts';
import { applyPendingEvents, storeStripeEvent, upsertRefund, upsertSubscription } from '../billing/apply-events.ts';
import { stripeCall } from '../billing/call.ts';
import type { BillingServices } from '../billing/service.ts';
import { implementWith } from '../runtime/task.ts';

const implementBilling = implementWith<BillingServices>();

/** The webhook's event is stored here, not in the webhook, so Stripe's answer never waits on the database. */
export const processPendingWebhooks = implementBilling(tasks['billing.process_pending_webhooks'], async ({ event }, { database }) => {
  if (event) await storeStripeEvent(database, event);
  return applyPendingEvents(database);
});

/** Reads every subscription of the user's Stripe customer and stores it. */
export const syncSubscriptionStatus = implementBilling(tasks['billing.sync_subscription_status'], async ({ userId }, { database, services }) => {
  const [user] = await database.rows<{ customer: string | null }>(sql`select stripe_customer_id as customer from users where id = ${userId}`);
  if (!user) throw new PermanentError(`no user ${userId}`);
  if (!user.customer) throw new PermanentError(`user ${userId} has no Stripe customer`);
  const stripe = await services.stripe();
  const now = Math.floor(Date.now() / 1000);
  let synced = 0;
  await stripeCall(async () => {
    for await (const subscription of stripe.subscriptions.list({ customer: user.customer!, status: 'all', limit: 100 })) {
      await upsertSubscription(database, subscription, now);
      synced++;
    }
  });
  return { userId, synced };
});

/** Sends an invoice once, however often the message is delivered: the idempotency key is the task id. */
export const sendInvoice = implementBilling(tasks['billing.send_invoice'], async ({ invoiceId }, { id, database, services }) => {
  const stripe = await services.stripe();
  const invoice = await stripeCall(() => stripe.invoices.sendInvoice(invoiceId, {}, { idempotencyKey: `send-invoice:${id}` }));
  await database.rows(sql`update invoices set sent_at = coalesce(sent_at, now()), status = ${invoice.status ?? 'open'} where id = ${invoiceId}`);
  return { invoiceId, status: invoice.status };
});

/** Refunds once, however often the message is delivered: the idempotency key is the task id. */
export const processRefund = implementBilling(tasks['billing.process_refund'], async ({ paymentIntentId, amount, reason }, { id, database, services }) => {
  const stripe = await services.stripe();
  const refund = await stripeCall(() =>
    stripe.refunds.create({ payment_intent: paymentIntentId, reason, ...(amount !== undefined ? { amount } : {}) }, { idempotencyKey: `refund:${id}` }),
  );
  await upsertRefund(database, refund, id);
  return { refundId: refund.id, amount: refund.amount, status: refund.status };
});

/** The `billing` queue's tasks. */
export const billingTasks = [processPendingWebhooks, syncSubscriptionStatus, sendInvoice, processRefund];
