import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * Emulators accept any credentials; giving them fixed ones spares the SDK a search of the
 * credential chain (instance metadata included) on a machine that has none.
 */
export function localCredentials(endpoint: string | undefined) {
  const hasOwn = process.env.AWS_ACCESS_KEY_ID || process.env.AWS_PROFILE;
  return endpoint && !hasOwn ? { credentials: { accessKeyId: 'test', secretAccessKey: 'test' } } : {};
}

/** The SQS client for a configuration: AWS by default, an explicit endpoint when one is set. */
export function createSqsClient(config: { readonly endpoint: string | undefined; readonly region: string }): SQSClient {
  return new SQSClient({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...localCredentials(config.endpoint),
  });
}
