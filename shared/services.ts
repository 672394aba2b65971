import { S3Client } from '@aws-sdk/client-s3';
import type OpenAI from 'openai';
import { localCredentials } from './aws.ts';
import { ConfigError } from './config.ts';
import type Stripe from 'stripe';

/** The SaaS clients tasks use, each built on first use and kept for the process. */
export interface TaskServices {
  stripe(): Promise<Stripe>;
  openai(): Promise<OpenAI>;
  /** The files bucket: uploads, exports and temporary files. */
  files(): { s3: S3Client; bucket: string };
  readonly env: NodeJS.ProcessEnv;
}

export function createServices(env: NodeJS.ProcessEnv = process.env): TaskServices {
  let files: { s3: S3Client; bucket: string } | undefined;
  return {
    // Loaded on first use: a consumer whose tasks never call Stripe or OpenAI never initialises their SDKs.
    stripe: once(async () => (await import('./billing/stripe.ts')).createStripe(env)),
    openai: once(async () => (await import('./ai/openai.ts')).createOpenAi(env)),
    files() {
      const bucket = env.FILES_BUCKET;
      if (!bucket) throw new ConfigError('FILES_BUCKET is not set');
      const endpoint = env.AWS_ENDPOINT_URL;
      files ??= {
        bucket,
        s3: new S3Client({ region: env.AWS_REGION ?? 'us-east-1', ...(endpoint ? { endpoint, forcePathStyle: true } : {}), ...localCredentials(endpoint) }),
      };
      return files;
    },
    env,
  };
}

/** Builds on first call and keeps the result; a failure is not kept, so a fixed secret is picked up. */
function once<T>(build: () => Promise<T>): () => Promise<T> {
  let built: Promise<T> | undefined;
  return () => {
    built ??= build().catch((error: unknown) => {
      built = undefined;
      throw error;
    });
    return built;
  };
}
