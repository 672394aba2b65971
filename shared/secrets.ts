import { ConfigError, type Environment } from './config.ts';

/** The third-party credentials, by the environment variable that names each. */
const secretVariables = {
  'stripe-api-key': 'STRIPE_API_KEY',
  'stripe-webhook-secret': 'STRIPE_WEBHOOK_SECRET',
  'openai-api-key': 'OPENAI_API_KEY',
} as const;

export type SecretName = keyof typeof secretVariables;

/**
 * What the stack stores in each third-party secret until someone pastes the real key: a
 * fixed value, so a missing key is reported as such rather than as the provider's auth error.
 */
export const secretPlaceholder = 'not-configured';

/** Seconds a secret is cached in the process; a rotated key is picked up within this. */
const cacheSeconds = 300;

/**
 * A credential at run time, from the environment the process started with (`env`, handed
 * down from start-up). In AWS, `<VAR>_SECRET_ID` names the Secrets Manager secret and the
 * value is read with Powertools Parameters (cached), so it never sits in the environment.
 * On one machine `<VAR>` may hold the value itself. Missing, it is a `ConfigError`: the
 * task that needs it fails at once, saying what to set.
 */
export async function readSecret(name: SecretName, env: Environment): Promise<string> {
  const variable = secretVariables[name];
  const secretId = env[`${variable}_SECRET_ID`];
  if (secretId) {
    // Loaded with its Secrets Manager client on the first read, off the cold start.
    const { getSecret } = await import('@aws-lambda-powertools/parameters/secrets');
    const value = await getSecret<string>(secretId, { maxAge: cacheSeconds });
    if (typeof value !== 'string' || value.length === 0 || value === secretPlaceholder) {
      throw new ConfigError(`${name} is not configured: set it with aws secretsmanager put-secret-value --secret-id ${secretId} --secret-string …`);
    }
    return known(name, value);
  }
  const value = env[variable];
  if (value) return known(name, value);
  throw new ConfigError(`${name} is not configured: set ${variable}_SECRET_ID (a Secrets Manager secret name) or, locally, ${variable}`);
}

/** The secret values this process has read, so no error that quotes one is stored or logged with it. */
const knownValues = new Map<string, SecretName>();

function known(name: SecretName, value: string): string {
  // Too short to be a key (a test's placeholder): replacing it would garble unrelated text.
  if (value.length >= 8) knownValues.set(value, name);
  return value;
}

/**
 * Text with every secret value this process has read replaced by its name: a provider's
 * error may echo the key it was given (`Invalid API key: sk_live_…`), and what it says is
 * stored in the result store and written to the logs.
 */
export function redactSecrets(text: string): string {
  let redacted = text;
  for (const [value, name] of knownValues) if (redacted.includes(value)) redacted = redacted.replaceAll(value, `[${name} redacted]`);
  return redacted;
}
