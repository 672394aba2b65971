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
