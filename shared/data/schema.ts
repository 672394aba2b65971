import { index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** Files users upload for cleaning; `process_file_upload` fills in the outcome. */
export const uploads = pgTable(
  'uploads',
  {
    id: text('id').primaryKey(),
    userId: integer('user_id').notNull(),
    key: text('key').notNull(),
    filename: text('filename').notNull(),
    status: text('status').$type<'pending' | 'processed' | 'failed'>().notNull().default('pending'),
    rowsIn: integer('rows_in'),
    rowsOut: integer('rows_out'),
    rowsInvalid: integer('rows_invalid'),
    duplicates: integer('duplicates'),
    cleanedKey: text('cleaned_key'),
    reportKey: text('report_key'),
    error: text('error'),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'string' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    processedAt: timestamp('processed_at', { withTimezone: true, mode: 'string' }),
  },
  (table) => [index('uploads_user_idx').on(table.userId), index('uploads_expires_idx').on(table.expiresAt)],
);

/** One export per task id: where the file is and the link that was handed out. */
export const exports = pgTable(
  'exports',
  {
    taskId: text('task_id').primaryKey(),
    userId: integer('user_id').notNull(),
    format: text('format').notNull(),
    key: text('key').notNull(),
    url: text('url').notNull(),
    urlExpiresAt: timestamp('url_expires_at', { withTimezone: true, mode: 'string' }).notNull(),
    rows: integer('rows').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (table) => [index('exports_user_idx').on(table.userId)],
);
