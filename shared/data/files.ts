import { PassThrough, type Readable } from 'node:stream';
// Named imports, not the SDK's namespace: esbuild then keeps only these commands' schemas.
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { localCredentials } from '../aws.ts';

/** Where the files bucket is. */
export interface FilesBucketSettings {
  readonly bucket: string;
  readonly region: string;
  readonly endpoint?: string | undefined;
  /** The process has credentials of its own (shared/config.ts), so an endpoint does not get the emulators' fixed ones. */
  readonly ownCredentials: boolean;
}

/**
 * The files bucket, as the `data` tasks use it. Loaded through a dynamic import
 * (shared/data/service.ts), so the S3 client is in a chunk of its own, read by the first
 * task that needs it and never at init.
 */
export interface FilesBucket {
  readonly bucket: string;
  /** An object's body as a stream; undefined when there is no object at `key`. */
  read(key: string): Promise<Readable | undefined>;
  /** Streams an object to S3 as it is produced (multipart), so a large file never sits in memory. */
  write(key: string, contentType: string): { readonly body: PassThrough; readonly done: Promise<unknown> };
  /** A presigned link that reads the object for `expiresInSeconds`. */
  link(key: string, expiresInSeconds: number): Promise<string>;
  /** Deletes the objects under `prefix` last modified before `cutoffMs`, a page of 1000 at a time; how many went. */
  deleteOlderThan(prefix: string, cutoffMs: number): Promise<number>;
}

export function filesBucket({ bucket, region, endpoint, ownCredentials }: FilesBucketSettings): FilesBucket {
  const s3 = new S3Client({ region, ...(endpoint ? { endpoint, forcePathStyle: true } : {}), ...localCredentials(endpoint, ownCredentials) });
  return {
    bucket,
    async read(key) {
      try {
        return (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body as Readable;
      } catch (error) {
        if ((error as Error).name === 'NoSuchKey') return undefined;
        throw error;
      }
    },
    write(key, contentType) {
      const body = new PassThrough();
      const done = new Upload({ client: s3, params: { Bucket: bucket, Key: key, Body: body, ContentType: contentType }, queueSize: 2, partSize: 8 * 1024 * 1024 }).done();
      return { body, done };
    },
    link: (key, expiresIn) => getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn }),
    async deleteOlderThan(prefix, cutoffMs) {
      let deleted = 0;
      let token: string | undefined;
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1000, ...(token ? { ContinuationToken: token } : {}) }));
        const old = (page.Contents ?? []).filter((object) => object.Key && object.LastModified && object.LastModified.getTime() < cutoffMs);
        if (old.length > 0) {
          // A concurrent run deleting the same keys is harmless: S3 deletes are idempotent.
          const result = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: old.map((object) => ({ Key: object.Key! })), Quiet: true } }));
          deleted += old.length - (result.Errors?.length ?? 0);
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return deleted;
    },
  };
}
