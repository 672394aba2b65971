import * as z from 'zod';
import { tenantOf } from '../envelope/tenant.ts';
import { resolveTask } from '../producer/send.ts';
import type { HistoryFilter } from '../results/filter.ts';
import { taskStatuses, type TaskStatus } from '../results/schema.ts';

/** The fields a task list and a bulk action are filtered by: `taskq`'s flags, the API's fields, the dashboard's form. */
export const filterFields = ['status', 'task', 'since', 'until', 'search', 'tenant'] as const;
export type FilterField = (typeof filterFields)[number];

/** A filter that cannot be read: the caller's mistake, said in the caller's terms. */
export class FilterError extends Error {
  override name = 'FilterError';
}

/** A time a filter takes: ISO 8601 with an offset or Z, or a date (midnight UTC), within the years PostgreSQL stores. */
const filterTime = z.union([z.iso.datetime({ offset: true }), z.iso.date()]).refine((text) => {
  const ms = Date.parse(text);
  return ms >= Date.UTC(1, 0, 1) && ms <= Date.UTC(9999, 11, 31);
});

/**
 * A filter from text fields, each checked: a known state, times in order, bounded printable
 * text. A task's Celery name becomes its catalogue name, and a tenant is hashed as a send
 * hashes it, so each finds what the rows hold. `label` names a field in messages (`--since`).
 */
export function parseFilter(input: Partial<Record<FilterField, string | undefined>>, label: (field: FilterField) => string = (field) => field): Omit<HistoryFilter, 'limit'> {
  const text = (field: FilterField) => {
    const value = input[field] || undefined;
    // eslint-disable-next-line no-control-regex
    if (value !== undefined && (value.length > 1000 || /[\u0000-\u001f\u007f]/.test(value) || !value.isWellFormed())) throw new FilterError(`${label(field)} must be printable text of at most 1000 characters`);
    return value;
  };
  const status = text('status');
  if (status !== undefined && !(taskStatuses as readonly string[]).includes(status)) throw new FilterError(`${label('status')} takes ${taskStatuses.join(', ')}, not ${status.slice(0, 100)}`);
  const time = (field: 'since' | 'until') => {
    const value = text(field);
    if (value === undefined) return undefined;
    if (!filterTime.safeParse(value).success) throw new FilterError(`${label(field)} takes an ISO 8601 time such as 2026-11-27T09:00:00Z or a date such as 2026-11-27, not ${value.slice(0, 100)}`);
    return new Date(value).toISOString();
  };
  const since = time('since');
  const until = time('until');
  if (since && until && since >= until) throw new FilterError(`${label('since')} (${since}) must be before ${label('until')} (${until})`);
  const task = text('task');
  const tenant = text('tenant');
  const search = text('search');
  return {
    ...(status ? { status: status as TaskStatus } : {}),
    ...(task ? { task: catalogueName(task) } : {}),
    ...(since ? { since } : {}),
    ...(until ? { until } : {}),
    ...(search ? { search } : {}),
    ...(tenant ? { tenant: tenantOf(undefined, {}, tenant)! } : {}),
  };
}

/** Whether any filter field is given: that is what turns `taskq revoke` and `purge` into their bulk forms. */
export function hasFilter(input: Partial<Record<FilterField, unknown>>): boolean {
  return filterFields.some((field) => input[field] !== undefined && input[field] !== '');
}

/** A task's catalogue name for its Celery name; a name the catalogue does not know is kept, as rows of rejected messages keep it. */
function catalogueName(task: string): string {
  try {
    return resolveTask(task).name;
  } catch {
    return task;
  }
}
