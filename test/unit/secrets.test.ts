import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../shared/config.ts';
import { finishTasks } from '../../shared/results/finish.ts';
import { readSecret, redactSecrets, secretPlaceholder } from '../../shared/secrets.ts';
import { openTestDatabase, taskRow } from '../support/database.ts';

/** Secrets Manager's JSON protocol, GetSecretValue only: what Powertools Parameters calls. */
async function startSecretsManager(values: Record<string, string>) {
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const { SecretId } = JSON.parse(body) as { SecretId: string };
      const value = values[SecretId];
      response.writeHead(value === undefined ? 400 : 200, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify(value === undefined
        ? { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." }
        : { ARN: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${SecretId}`, Name: SecretId, SecretString: value }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, stop: () => new Promise((resolve) => server.close(resolve)) };
}

describe('readSecret', () => {
  it('takes the value from the environment on one machine', async () => {
    expect(await readSecret('stripe-webhook-secret', { STRIPE_WEBHOOK_SECRET: 'whsec_local' })).toBe('whsec_local');
  });

  it('names both ways of configuring a missing secret', async () => {
    await expect(readSecret('openai-api-key', {})).rejects.toThrow(ConfigError);
    await expect(readSecret('openai-api-key', {})).rejects.toThrow(/OPENAI_API_KEY_SECRET_ID .* OPENAI_API_KEY/);
  });

  describe('from Secrets Manager', () => {
    let secrets: Awaited<ReturnType<typeof startSecretsManager>>;
    const saved = { ...process.env };
    beforeAll(async () => {
      secrets = await startSecretsManager({ 'dev/datacleanup/stripe-api-key': secretPlaceholder, 'dev/datacleanup/openai-api-key': 'sk-real' });
      Object.assign(process.env, { AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' });
    });
    afterAll(async () => {
      process.env = saved;
      await secrets.stop();
    });

    it('reports the placeholder the stack stores as not configured, naming the secret to fill', async () => {
      const read = readSecret('stripe-api-key', { STRIPE_API_KEY_SECRET_ID: 'dev/datacleanup/stripe-api-key' });

      await expect(read).rejects.toThrow(ConfigError);
      await expect(read).rejects.toThrow(/stripe-api-key is not configured: set it with aws secretsmanager put-secret-value --secret-id dev\/datacleanup\/stripe-api-key/);
    });

    it('returns a key once it has been put in', async () => {
      expect(await readSecret('openai-api-key', { OPENAI_API_KEY_SECRET_ID: 'dev/datacleanup/openai-api-key' })).toBe('sk-real');
    });
  });
});

describe('redactSecrets', () => {
  it('replaces every secret value the process has read with its name, wherever an error quotes it', async () => {
    const key = 'sk-live-0123456789abcdef';
    await readSecret('openai-api-key', { OPENAI_API_KEY: key });

    expect(redactSecrets(`401 Incorrect API key provided: ${key}. Retry with ${key}`)).toBe('401 Incorrect API key provided: [openai-api-key redacted]. Retry with [openai-api-key redacted]');
    expect(redactSecrets('nothing secret here')).toBe('nothing secret here');
  });

  it('keeps a secret quoted in a task error out of the row that records it', async () => {
    const key = 'sk_test_stripe_0123456789';
    await readSecret('stripe-api-key', { STRIPE_API_KEY: key });
    const db = await openTestDatabase();
    try {
      await finishTasks(db.database, [{ id: 'leaky', name: 'billing.send_invoice', queue: 'billing', status: 'FAILURE', error: `StripeAuthenticationError: Invalid API Key provided: ${key}`, traceback: `at charge (${key})` }]);
      const row = await taskRow(db.database, 'leaky');
      expect([row?.error, row?.traceback]).toEqual(['StripeAuthenticationError: Invalid API Key provided: [stripe-api-key redacted]', 'at charge ([stripe-api-key redacted])']);
    } finally {
      await db.close();
    }
  });
});
