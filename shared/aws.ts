import { SQSClient } from '@aws-sdk/client-sqs';
import type { Config } from './config.ts';

/**
 * Emulators accept any credentials; giving them fixed ones spares the SDK a search of the
 * credential chain (instance metadata included) on a machine that has none. Whether the
 * environment has credentials of its own is decided once, by `readConfig` (`ownCredentials`).
 */
export function localCredentials(endpoint: string | undefined, ownCredentials: boolean) {
  return endpoint && !ownCredentials ? { credentials: { accessKeyId: 'test', secretAccessKey: 'test' } } : {};
}

/** The SQS client for a configuration: AWS by default, an explicit endpoint when one is set. */
export function createSqsClient(config: Pick<Config, 'endpoint' | 'region' | 'ownCredentials'>): SQSClient {
  return new SQSClient({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...localCredentials(config.endpoint, config.ownCredentials),
  });
}
