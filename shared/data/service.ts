import * as z from 'zod';
import { hasOwnCredentials } from '../config.ts';
import { once, readSettings } from '../services.ts';
import type { FilesBucket } from './files.ts';

/** What the `data` queue's tasks use: the files bucket and how long its exports and temporary files live. */
export interface DataServices {
  files(): Promise<FilesBucket>;
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
  return {
    // Settings are checked at start; the S3 client (and its SDK) waits for the first task that needs it, off the cold start.
    files: once(async () => (await import('./files.ts')).filesBucket({ bucket: config.FILES_BUCKET, region: config.AWS_REGION, endpoint: config.AWS_ENDPOINT_URL, ownCredentials: hasOwnCredentials(env) })),
    exportUrlTtlSeconds: config.EXPORT_URL_TTL_SECONDS,
    tempFileMaxAgeHours: config.TEMP_FILE_MAX_AGE_HOURS,
  };
}
