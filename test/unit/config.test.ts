import { describe, expect, it } from 'vitest';
import { aiServices } from '../../shared/ai/service.ts';
import { ConfigError, physicalQueueName, readConfig } from '../../shared/config.ts';
import { dataServices } from '../../shared/data/service.ts';
import { PermanentError } from '../../shared/errors.ts';

describe('readConfig', () => {
  it('defaults to a local stage on embedded PGlite', () => {
    expect(readConfig({})).toMatchObject({ stage: 'local', region: 'us-east-1', database: { kind: 'pglite' }, endpoint: undefined });
  });

  it('prefers the Data API, then DATABASE_URL', () => {
    const dataApi = readConfig({ DB_CLUSTER_ARN: 'arn:aws:rds:x', DB_SECRET_ARN: 'arn:aws:secretsmanager:y', DATABASE_URL: 'postgres://h/db' });
    expect(dataApi.database).toMatchObject({ kind: 'data-api', resourceArn: 'arn:aws:rds:x', database: 'tasks' });
    expect(readConfig({ DATABASE_URL: 'postgres://h/db' }).database).toEqual({ kind: 'postgres', url: 'postgres://h/db' });
  });

  it('reads queue URLs per catalogue queue', () => {
    const config = readConfig({ QUEUE_URL_AI: 'http://q/ai', DLQ_URL_AI: 'http://q/ai-dlq', QUEUE_URL_NOPE: 'x' });
    expect(config.queueUrls).toEqual({ ai: 'http://q/ai' });
    expect(config.deadLetterQueueUrls).toEqual({ ai: 'http://q/ai-dlq' });
  });

  it('reports every problem at once', () => {
    expect(() => readConfig({ STAGE: 'Prod!', AWS_ENDPOINT_URL: 'not a url' })).toThrow(/STAGE: .*; AWS_ENDPOINT_URL: /);
    expect(() => readConfig({ DB_CLUSTER_ARN: 'arn:aws:rds:x' })).toThrow(ConfigError);
  });

  it('names queues by stage', () => {
    expect(physicalQueueName('prod', 'billing')).toBe('prod-billing');
    expect(physicalQueueName('prod', 'billing', true)).toBe('prod-billing-dlq');
  });
});

describe("a queue's services, read once at start", () => {
  it('fails the data consumer at start with one message naming every problem', () => {
    expect(() => dataServices({ EXPORT_URL_TTL_SECONDS: 'an hour', TEMP_FILE_MAX_AGE_HOURS: '-1' })).toThrow(
      /^invalid environment for the data consumer: FILES_BUCKET: .*; EXPORT_URL_TTL_SECONDS: .*; TEMP_FILE_MAX_AGE_HOURS: /,
    );
  });

  it('reads the AI models once, with their defaults', () => {
    expect(aiServices({})).toMatchObject({ chatModel: 'gpt-4o-mini', embeddingModel: 'text-embedding-3-small' });
    expect(aiServices({ OPENAI_MODEL: 'gpt-5-mini' }).chatModel).toBe('gpt-5-mini');
  });

  it('makes a missing setting or secret a permanent failure: every retry would meet it again', () => {
    expect(new ConfigError('openai-api-key is not configured')).toBeInstanceOf(PermanentError);
  });
});
