import { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { localCredentials } from '../aws.ts';
import { hasOwnCredentials } from '../config.ts';
import { readSettings } from '../services.ts';

/** What the `data` queue's tasks use: the files bucket and how long its exports and temporary files live. */
export interface DataServices {
  files(): { s3: S3Client; bucket: string };
  readonly exportUrlTtlSeconds: number;
  readonly tempFileMaxAgeHours: number;
}

const settings = z.object({
  FILES_BUCKET: z.string().min(3, 'the files bucket (FILES_BUCKET) is required'),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  AWS_ENDPOINT_URL: z.url().optional(),
  EXPORT_URL_TTL_SECONDS: z.coerce.number().int().min(1).max(7 * 24 * 3600).default(3600),
  TEMP_FILE_MAX_AGE_HOURS: z.coerce.number().min(0).default(24),
});

export function dataServices(env: NodeJS.ProcessEnv): DataServices {
  const config = readSettings('data', settings, env);
  const endpoint = config.AWS_ENDPOINT_URL;
  let files: { s3: S3Client; bucket: string } | undefined;
  return {
    // Settings are checked at start; the client waits for the first task that needs it, off the cold start.
    files: () => (files ??= { bucket: config.FILES_BUCKET, s3: new S3Client({ region: config.AWS_REGION, ...(endpoint ? { endpoint, forcePathStyle: true } : {}), ...localCredentials(endpoint, hasOwnCredentials(env)) }) }),
    exportUrlTtlSeconds: config.EXPORT_URL_TTL_SECONDS,
    tempFileMaxAgeHours: config.TEMP_FILE_MAX_AGE_HOURS,
  };
}
