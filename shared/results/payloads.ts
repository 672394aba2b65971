import { createHash } from 'node:crypto';
import type { ResultObjects } from './overflow-s3.ts';
import type { ResultsBucket } from './overflow.ts';

/** Where payloads too large for their message are kept in the files bucket; a lifecycle rule expires what no task deleted. */
export const payloadPrefix = 'task-payloads/';

/**
 * Payloads above this go to the bucket (the claim-check pattern). SQS bills a message per
 * 64 KiB, three times (send, receive, delete): at 256 KiB that is 12 requests, about what an
 * S3 PUT, GET and DELETE cost, and a batch of ten stays within a few MiB of consumer memory.
 */
export const claimCheckBytes = 256 * 1024;

/**
 * How long the files bucket keeps a payload object no task deleted (a failed task's, for
 * its dead letter's redrive): past the dead-letter queue's 14 days, with room for a retry.
 */
export const payloadObjectDays = 30;

/** A payload kept in the bucket, as the envelope's `payloadRef` names it. */
export interface PayloadRef {
  readonly key: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** A payload whose object is gone (expired, or deleted when its task ended). */
export class PayloadMissingError extends Error {
  override name = 'PayloadMissingError';
}

/** A payload's object that is not what its reference says: another size or digest. */
export class PayloadMismatchError extends Error {
  override name = 'PayloadMismatchError';
}

/** The reference of a payload's JSON text: keyed by task id and digest, so a task id sent again with another payload never overwrites the first. */
export function payloadRefOf(taskId: string, text: string): PayloadRef {
  const sha256 = createHash('sha256').update(text).digest('hex');
  return { key: `${payloadPrefix}${encodeURIComponent(taskId)}/${sha256}.json`, bytes: Buffer.byteLength(text), sha256 };
}

export interface PayloadStore {
  put(ref: PayloadRef, text: string): Promise<void>;
  /** The payload's JSON text, checked against its reference. */
  get(ref: PayloadRef): Promise<string>;
  delete(keys: readonly string[]): Promise<void>;
}

/** The files bucket's payload objects through S3, the client loaded on first use (as the results' overflow is). */
export function s3PayloadStore(target: ResultsBucket): PayloadStore {
  let objects: Promise<ResultObjects> | undefined;
  const connect = () => (objects ??= import('./overflow-s3.ts').then(({ resultObjects }) => resultObjects(target)));
  return {
    async put(ref, text) {
      await (await connect()).put(ref.key, text);
    },
    async get(ref) {
      const text = await (await connect()).get(ref.key).catch((error: unknown) => {
        if ((error as { name?: string }).name === 'NoSuchKey') throw new PayloadMissingError(`the payload object ${ref.key} does not exist (it expired, or its task ended)`);
        throw error;
      });
      const found = payloadRefOf('', text);
      if (found.bytes !== ref.bytes || found.sha256 !== ref.sha256) throw new PayloadMismatchError(`the payload object ${ref.key} holds ${found.bytes} bytes with SHA-256 ${found.sha256}, not the ${ref.bytes} bytes and digest its reference names`);
      return text;
    },
    async delete(keys) {
      if (keys.length > 0) await (await connect()).delete(keys);
    },
  };
}
