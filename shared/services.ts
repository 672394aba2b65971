import type { z } from 'zod';
import { configError, issueProblems, type Environment } from './config.ts';

/**
 * The pieces every queue's services are built from. Each queue declares its own (the files
 * bucket for `data`, Stripe for `billing`, OpenAI for `ai`) next to its tasks, so a bundle
 * carries only the SDKs its queue uses.
 */

/** Builds on first call and keeps the result; a failure is not kept, so a fixed secret is picked up. */
export function once<T>(build: () => Promise<T>): () => Promise<T> {
  let built: Promise<T> | undefined;
  return () => {
    built ??= build().catch((error: unknown) => {
      built = undefined;
      throw error;
    });
    return built;
  };
}

/** A queue's settings, read once from the environment: every problem is reported at once, at start. */
export function readSettings<Schema extends z.ZodType>(queue: string, schema: Schema, env: Environment): z.output<Schema> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  throw configError(`the ${queue} consumer`, issueProblems(parsed.error));
}

/**
 * Runs a SaaS call and rethrows its failure as the provider's classifier says (retry,
 * permanent, what to set). The classifier comes with the provider's SDK, which the client
 * has loaded by the time a call fails: loading it here, on failure, keeps the SDK out of
 * the tasks' static imports and so out of the cold start.
 */
export async function classifiedCall<T>(call: () => Promise<T>, classifier: () => Promise<(error: unknown) => Error>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw (await classifier())(error);
  }
}
