import { sql } from 'drizzle-orm';
import { bigint, boolean, check, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** DataCleanup Pro's users, as far as the background tasks need them. */
export const users = pgTable('users', {
  id: integer('id').primaryKey(),
  email: text('email').notNull(),
  stripeCustomerId: text('stripe_customer_id').unique(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
});

/** Stripe webhook events, stored once by id when they arrive and applied by `process_pending_webhooks`. */
export const stripeEvents = pgTable(
  'stripe_events',
  {
    id: text('id').primaryKey(),
    type: text('type').notNull(),
    livemode: boolean('livemode').notNull(),
    payload: jsonb('payload').notNull(),
    status: text('status').$type<'pending' | 'processed' | 'failed'>().notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    stripeCreatedAt: timestamp('stripe_created_at', { withTimezone: true, mode: 'string' }).notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    processedAt: timestamp('processed_at', { withTimezone: true, mode: 'string' }),
  },
  (table) => [
    index('stripe_events_pending_idx').on(table.stripeCreatedAt).where(sql`${table.status} = 'pending'`),
    check('stripe_events_status_check', sql`${table.status} in ('pending', 'processed', 'failed')`),
  ],
);

/** Subscriptions as Stripe last told us; `stripe_updated_at` keeps an older event from overwriting a newer one. */
export const subscriptions = pgTable(
  'subscriptions',
  {
    id: text('id').primaryKey(),
    userId: integer('user_id').references(() => users.id),
    customerId: text('customer_id').notNull(),
    status: text('status').notNull(),
    priceId: text('price_id'),
    currentPeriodEnd: timestamp('current_period_end', { withTimezone: true, mode: 'string' }),
    cancelAtPeriodEnd: boolean('cancel_at_period_end').notNull().default(false),
    stripeUpdatedAt: bigint('stripe_updated_at', { mode: 'number' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (table) => [index('subscriptions_user_idx').on(table.userId)],
);

export const invoices = pgTable(
  'invoices',
  {
    id: text('id').primaryKey(),
    userId: integer('user_id').references(() => users.id),
    customerId: text('customer_id').notNull(),
    status: text('status').notNull(),
    amountDue: bigint('amount_due', { mode: 'number' }).notNull(),
    amountPaid: bigint('amount_paid', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
    hostedInvoiceUrl: text('hosted_invoice_url'),
    sentAt: timestamp('sent_at', { withTimezone: true, mode: 'string' }),
    stripeUpdatedAt: bigint('stripe_updated_at', { mode: 'number' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (table) => [index('invoices_user_idx').on(table.userId)],
);

/** Refunds, whether we asked for them (`task_id`) or Stripe reported them (`charge.refunded`). */
export const refunds = pgTable(
  'refunds',
  {
    id: text('id').primaryKey(),
    paymentIntentId: text('payment_intent_id'),
    chargeId: text('charge_id'),
    amount: bigint('amount', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
    status: text('status').notNull(),
    reason: text('reason'),
    taskId: text('task_id').unique(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (table) => [index('refunds_payment_intent_idx').on(table.paymentIntentId)],
);
