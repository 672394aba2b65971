import { startOpenAiStandIn, type OpenAiStandIn } from './openai.ts';
import { startStripeStandIn, type StripeStandIn } from './stripe.ts';

/** The placeholder credentials the consumers are given for the stand-ins: test mode, and plainly not real keys. */
export const standInCredentials = {
  openAiApiKey: 'sk-local-stand-in',
  stripeApiKey: 'sk_test_local_stand_in',
  stripeWebhookSecret: 'whsec_local_stand_in',
} as const;

/** Which stand-ins a cloud runs, with the URL each answers on. */
export interface StandInUrls {
  readonly openai?: string;
  readonly stripe?: string;
}

export interface StandIns extends StandInUrls {
  /** Sends the Stripe stand-in's events, signed, to the cloud's webhook receiver. */
  connectWebhook(url: string): void;
  stop(): Promise<void>;
}

/**
 * Starts a stand-in for each API the environment gives no way to reach, and points the
 * environment at it (as the stack points a function at the real API): OpenAI when none of
 * `OPENAI_API_KEY`, `OPENAI_API_KEY_SECRET_ID`, `OPENAI_BASE_URL` is set; Stripe when none
 * of `STRIPE_API_KEY`, `STRIPE_API_KEY_SECRET_ID`, `STRIPE_API_BASE` is. Whatever is set
 * wins: a real key or base URL is never replaced. `env` is the cloud's own copy.
 */
export async function startStandIns(env: Record<string, string | undefined>, options: { host: string; onError?: (error: unknown) => void }): Promise<StandIns> {
  const unset = (...names: string[]) => names.every((name) => !env[name]);
  let openai: OpenAiStandIn | undefined;
  let stripe: StripeStandIn | undefined;
  let webhookSecret: string | undefined;
  if (unset('OPENAI_API_KEY', 'OPENAI_API_KEY_SECRET_ID', 'OPENAI_BASE_URL')) {
    openai = await startOpenAiStandIn({ host: options.host, apiKey: standInCredentials.openAiApiKey });
    env.OPENAI_API_KEY = standInCredentials.openAiApiKey;
    env.OPENAI_BASE_URL = openai.baseUrl;
  }
  if (unset('STRIPE_API_KEY', 'STRIPE_API_KEY_SECRET_ID', 'STRIPE_API_BASE')) {
    stripe = await startStripeStandIn({ host: options.host, ...(options.onError ? { onError: options.onError } : {}) });
    env.STRIPE_API_KEY = standInCredentials.stripeApiKey;
    env.STRIPE_API_BASE = stripe.url;
    // A secret given (for `stripe listen`) signs the stand-in's events too; one only Secrets Manager knows cannot.
    if (unset('STRIPE_WEBHOOK_SECRET', 'STRIPE_WEBHOOK_SECRET_SECRET_ID')) env.STRIPE_WEBHOOK_SECRET = standInCredentials.stripeWebhookSecret;
    webhookSecret = env.STRIPE_WEBHOOK_SECRET;
  }
  return {
    ...(openai ? { openai: openai.baseUrl } : {}),
    ...(stripe ? { stripe: stripe.url } : {}),
    connectWebhook(url) {
      if (stripe && webhookSecret) stripe.deliverWebhooksTo({ url, secret: webhookSecret });
    },
    async stop() {
      await Promise.all([openai?.stop(), stripe?.stop()]);
    },
  };
}
