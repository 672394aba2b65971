import { FilterError, filterFields, hasFilter, parseFilter } from '../operations/index.ts';
import type { HistoryFilter } from '../results/filter.ts';
import { UsageError, type Values } from './args.ts';

/** The filter flags, checked here so a bad one never reaches an endpoint. */
export function filterOf(values: Values): Omit<HistoryFilter, 'limit'> {
  try {
    return parseFilter(Object.fromEntries(filterFields.map((field) => [field, values[field]])), (field) => `--${field}`);
  } catch (error) {
    if (error instanceof FilterError) throw new UsageError(error.message);
    throw error;
  }
}

/** Whether a filter flag is given: it turns `retry`, `revoke` and `purge` into their bulk forms. */
export function filtered(values: Values): boolean {
  return hasFilter(Object.fromEntries(filterFields.map((field) => [field, values[field]])));
}

export { filterFields };
