import { sql, type SQL } from 'drizzle-orm';
import type { TaskStatus } from './schema.ts';

/** Which tasks a list or a bulk action takes. */
export interface HistoryFilter {
  readonly status?: TaskStatus;
  /** The catalogue name, as rows keep it. */
  readonly task?: string;
  /** ISO time: tasks created at or after it. */
  readonly since?: string;
  /** ISO time: tasks created before it. */
  readonly until?: string;
  /** Matches the id exactly, or appears in the payload's text. */
  readonly search?: string;
  /** Whom the tasks run for, as the row keeps it (`tenantOf`). */
  readonly tenant?: string;
  /** @default 50 */
  readonly limit?: number;
}

/** The filter's conditions on `task_results` (without its status, which a bulk action narrows itself). */
export function filterConditions(filter: Omit<HistoryFilter, 'status' | 'limit'>): SQL[] {
  const conditions: SQL[] = [];
  if (filter.task) conditions.push(sql`name = ${filter.task}`);
  if (filter.since) conditions.push(sql`created_at >= ${filter.since}::timestamptz`);
  if (filter.until) conditions.push(sql`created_at < ${filter.until}::timestamptz`);
  if (filter.tenant) conditions.push(sql`tenant = ${filter.tenant}`);
  if (filter.search) conditions.push(sql`(id = ${filter.search} or strpos(lower(payload::text), lower(${filter.search})) > 0)`);
  return conditions;
}

/** `where` over every condition given, or nothing. */
export function whereAll(conditions: readonly SQL[]): SQL {
  return conditions.length > 0 ? sql`where ${sql.join([...conditions], sql` and `)}` : sql``;
}
