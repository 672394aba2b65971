import type OpenAI from 'openai';
import type Stripe from 'stripe';
import { createOpenAi } from './ai/openai.ts';
import { createStripe } from './billing/stripe.ts';

/** The SaaS clients tasks use, each built on first use and kept for the process. */
export interface TaskServices {
  stripe(): Promise<Stripe>;
  openai(): Promise<OpenAI>;
  readonly env: NodeJS.ProcessEnv;
}

export function createServices(env: NodeJS.ProcessEnv = process.env): TaskServices {
  return { stripe: once(() => createStripe(env)), openai: once(() => createOpenAi(env)), env };
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
