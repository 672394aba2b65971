import { createHash } from 'node:crypto';
import * as z from 'zod';

/**
 * A task id: a UUID by default, or a caller-chosen idempotency key. The character set keeps
 * ids safe in SQS batch entry ids, Scheduler names, URLs and logs.
 */
export const taskId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'letters, digits and _ . : - only');

/** A UUID-shaped task id fixed by `parts`: the same parts always name the same task, so sending it again runs it once. */
export function derivedTaskId(...parts: readonly string[]): string {
  const hex = createHash('sha256').update(parts.join('\n')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
