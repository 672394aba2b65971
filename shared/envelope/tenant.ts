import { createHash } from 'node:crypto';
import * as z from 'zod';

/**
 * A tenant as SQS takes a `MessageGroupId`: 1 to 128 alphanumeric and punctuation characters.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
 */
export const tenantId = z.string().regex(/^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/, 'a tenant is 1 to 128 letters, digits and punctuation');

/**
 * The tenant a task runs for: the one a producer names, else the payload's field the
 * catalogue names (`tenant: 'userId'`). A value SQS would refuse as a group id (too long,
 * spaces, other scripts) is sent as `sha256:<hex>` of it, so it still keeps its tenant apart.
 */
export function tenantOf(field: string | undefined, payload: Readonly<Record<string, unknown>>, given?: string): string | undefined {
  const value = given ?? (field === undefined ? undefined : payload[field]);
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'bigint') return undefined;
  const text = String(value);
  if (text.length === 0) return undefined;
  return tenantId.safeParse(text).success ? text : `sha256:${createHash('sha256').update(text).digest('hex').slice(0, 40)}`;
}

/** The send parameter that puts a message in its tenant's group: SQS fair queues on a standard queue. */
export function messageGroup(envelope: { readonly tenant?: string | undefined }): { MessageGroupId?: string } {
  return envelope.tenant === undefined ? {} : { MessageGroupId: envelope.tenant };
}

/** The envelope field of a tenant, when there is one. */
export function tenantField(tenant: string | undefined): { tenant?: string } {
  return tenant === undefined ? {} : { tenant };
}
