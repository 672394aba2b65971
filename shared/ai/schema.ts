import { doublePrecision, index, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/** One LLM request per task id: the answer and the tokens it cost, per user. */
export const aiRequests = pgTable(
  'ai_requests',
  {
    taskId: text('task_id').primaryKey(),
    userId: integer('user_id').notNull(),
    model: text('model').notNull(),
    prompt: text('prompt').notNull(),
    answer: text('answer'),
    promptTokens: integer('prompt_tokens').notNull().default(0),
    completionTokens: integer('completion_tokens').notNull().default(0),
    totalTokens: integer('total_tokens').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (table) => [index('ai_requests_user_idx').on(table.userId, table.createdAt)],
);

/** Texts a user keeps for embedding (`generate_embeddings` by `documentId`). */
export const documents = pgTable('documents', {
  id: text('id').primaryKey(),
  userId: integer('user_id').notNull(),
  content: text('content').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
});

/**
 * Embedding vectors, one row per chunk of a source (`document:<id>` or `text:<sha-256>`),
 * so embedding the same source again replaces rather than adds. Stored as a
 * `double precision[]`, which every PostgreSQL has; pgvector's `vector` type is the
 * upgrade where the server has the extension.
 */
export const embeddings = pgTable(
  'embeddings',
  {
    userId: integer('user_id').notNull(),
    source: text('source').notNull(),
    chunk: integer('chunk').notNull(),
    content: text('content').notNull(),
    model: text('model').notNull(),
    vector: doublePrecision('vector').array().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.userId, table.source, table.chunk] })],
);
