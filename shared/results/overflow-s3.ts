// Named imports, not the SDK's namespace: esbuild then keeps only these commands' schemas (about 150 KiB less per bundle).
import { DeleteObjectsCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { localCredentials } from '../aws.ts';
import type { ResultsBucket } from './overflow.ts';

/** The objects of the results bucket, as JSON texts by key. */
export interface ResultObjects {
  put(key: string, body: string): Promise<void>;
  get(key: string): Promise<string>;
  /** Deletes up to a thousand objects a call; a key already gone is no error. */
  delete(keys: readonly string[]): Promise<void>;
}

export function resultObjects(target: ResultsBucket): ResultObjects {
  const s3 = new S3Client({
    ...(target.region ? { region: target.region } : {}),
    ...(target.endpoint ? { endpoint: target.endpoint, forcePathStyle: true } : {}),
    ...localCredentials(target.endpoint, target.ownCredentials ?? false),
  });
  return {
    async put(key, body) {
      await s3.send(new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: body, ContentType: 'application/json' }));
    },
    async get(key) {
      const object = await s3.send(new GetObjectCommand({ Bucket: target.bucket, Key: key }));
      return object.Body!.transformToString('utf8');
    },
    async delete(keys) {
      for (let start = 0; start < keys.length; start += 1000) {
        const { Errors = [] } = await s3.send(new DeleteObjectsCommand({ Bucket: target.bucket, Delete: { Objects: keys.slice(start, start + 1000).map((Key) => ({ Key })), Quiet: true } }));
        if (Errors.length > 0) throw new Error(`could not delete ${Errors.length} objects: ${Errors.map((e) => `${e.Key}: ${e.Code}`).join('; ')}`);
      }
    },
  };
}
