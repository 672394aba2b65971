import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../shared/config.ts';
import { readSecret } from '../../shared/secrets.ts';

describe('readSecret', () => {
  it('takes the value from the environment on one machine', async () => {
    expect(await readSecret('stripe-webhook-secret', { STRIPE_WEBHOOK_SECRET: 'whsec_local' })).toBe('whsec_local');
  });

  it('names both ways of configuring a missing secret', async () => {
    await expect(readSecret('openai-api-key', {})).rejects.toThrow(ConfigError);
    await expect(readSecret('openai-api-key', {})).rejects.toThrow(/OPENAI_API_KEY_SECRET_ID .* OPENAI_API_KEY/);
  });
});
