import { describe, expect, it } from 'vitest';
import { aiServices } from '../../shared/ai/service.ts';
import { ConfigError, physicalQueueName, readConfig } from '../../shared/config.ts';
import { laneName } from '../../shared/catalogue/index.ts';
import { dataConsumer } from '../../shared/consumers/data.ts';
import { defaultConsumer } from '../../shared/consumers/default.ts';
import { dataServices } from '../../shared/data/service.ts';
import { PermanentError } from '../../shared/errors.ts';

function thrown(act: () => unknown): ConfigError {
  try {
    act();
  } catch (error) {
    return error as ConfigError;
  }
  throw new Error('nothing was thrown');
}

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

  it('names every problem in one message: malformed values, queue URLs and settings missing their pair', () => {
    const read = () => readConfig({ STAGE: 'Prod!', DB_CLUSTER_ARN: 'arn:aws:rds:x', TASK_ETA_ROLE_ARN: 'arn:aws:iam::1:role/r', QUEUE_URL_AI: 'sqs/ai', DLQ_URL_BILLING: 'nope' });
    const error = thrown(read);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/^invalid environment: STAGE: .*; QUEUE_URL_AI: .*; DLQ_URL_BILLING: .*; DB_SECRET_ARN: required with DB_CLUSTER_ARN .*; TASK_ETA_SCHEDULE_GROUP: required with TASK_ETA_ROLE_ARN /);
    expect(error.problems.map((problem) => problem.split(':')[0])).toEqual(['STAGE', 'QUEUE_URL_AI', 'DLQ_URL_BILLING', 'DB_SECRET_ARN', 'TASK_ETA_SCHEDULE_GROUP']);
    expect(error).toBeInstanceOf(PermanentError);
  });

  it('decides once whether the environment has credentials of its own, for every client pointed at an emulator', () => {
    const endpoint = { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', RESULTS_BUCKET: 'results' };
    expect(readConfig(endpoint)).toMatchObject({ ownCredentials: false, database: { resultsBucket: { endpoint: 'http://127.0.0.1:4566', ownCredentials: false } } });
    expect(readConfig({ ...endpoint, AWS_PROFILE: 'dev' })).toMatchObject({ ownCredentials: true, database: { resultsBucket: { ownCredentials: true } } });
    expect(readConfig({ AWS_ACCESS_KEY_ID: 'AKIA…', DB_CLUSTER_ARN: 'arn:aws:rds:x', DB_SECRET_ARN: 'arn:aws:secretsmanager:y', AWS_ENDPOINT_URL_RDS_DATA: 'http://127.0.0.1:9000' }).database)
      .toMatchObject({ kind: 'data-api', endpoint: 'http://127.0.0.1:9000', ownCredentials: true });
  });

  it('takes the Scheduler endpoint from its own variable, else the shared one', () => {
    const group = { TASK_ETA_SCHEDULE_GROUP: 'local-task-etas', TASK_ETA_ROLE_ARN: 'arn:aws:iam::0:role/r' };
    expect(readConfig({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', ...group })).toMatchObject({ schedulerEndpoint: 'http://127.0.0.1:4566', longDelays: { endpoint: 'http://127.0.0.1:4566' } });
    expect(readConfig({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', AWS_ENDPOINT_URL_SCHEDULER: 'http://127.0.0.1:4600' }).schedulerEndpoint).toBe('http://127.0.0.1:4600');
    expect(readConfig({}).longDelays).toBeUndefined();
  });

  it("keeps Celery's result rows off unless CELERY_RESULTS=on", () => {
    expect(readConfig({}).celeryResults).toBe(false);
    expect(readConfig({ CELERY_RESULTS: 'off' }).celeryResults).toBe(false);
    expect(readConfig({ CELERY_RESULTS: 'on' }).celeryResults).toBe(true);
    expect(() => readConfig({ CELERY_RESULTS: 'yes' })).toThrow(/CELERY_RESULTS: /);
  });

  it('names queues by stage', () => {
    expect(physicalQueueName('prod', 'billing')).toBe('prod-billing');
    expect(physicalQueueName('prod', 'billing', true)).toBe('prod-billing-dlq');
    expect(physicalQueueName('prod', laneName('billing', 'high'), true)).toBe('prod-billing-high-dlq');
  });

  it('reads every lane\'s URLs, the high-priority lanes\' beside their queues\'', () => {
    const config = readConfig({ QUEUE_URL_AI: 'http://q/ai', QUEUE_URL_AI_HIGH: 'http://q/ai-high', DLQ_URL_AI_HIGH: 'http://q/ai-high-dlq' });
    expect(config.queueUrls).toEqual({ ai: 'http://q/ai', 'ai-high': 'http://q/ai-high' });
    expect(config.deadLetterQueueUrls).toEqual({ 'ai-high': 'http://q/ai-high-dlq' });
    expect(() => readConfig({ QUEUE_URL_AI_HIGH: 'not a url' })).toThrow(/QUEUE_URL_AI_HIGH: Invalid URL/);
  });
});

describe("a queue's services, read once at start", () => {
  it('fails the data consumer at start with one message naming every problem', () => {
    expect(() => dataServices({ EXPORT_URL_TTL_SECONDS: 'an hour', TEMP_FILE_MAX_AGE_HOURS: '-1' })).toThrow(
      /^invalid environment for the data consumer: FILES_BUCKET: .*; EXPORT_URL_TTL_SECONDS: .*; TEMP_FILE_MAX_AGE_HOURS: /,
    );
  });

  it("fails a queue's consumer at start with one message naming the configuration's, the queue's and the services' problems", () => {
    expect(() => dataConsumer({ STAGE: 'Prod!', AWS_ENDPOINT_URL: 'not a url', QUEUE_URL_DATA: 'http://q/data', EXPORT_URL_TTL_SECONDS: 'an hour' })).toThrow(
      /^invalid environment for the data consumer: STAGE: .*; AWS_ENDPOINT_URL: .*; DLQ_URL_DATA: required by the data consumer; QUEUE_URL_DATA_HIGH: required by the data consumer; DLQ_URL_DATA_HIGH: required by the data consumer; FILES_BUCKET: .*; EXPORT_URL_TTL_SECONDS: [^;]*$/,
    );
    expect(() => defaultConsumer({})).toThrow(/^invalid environment for the default consumer: QUEUE_URL_DEFAULT: required by the default consumer; DLQ_URL_DEFAULT: required by the default consumer; QUEUE_URL_DEFAULT_HIGH: required by the default consumer; DLQ_URL_DEFAULT_HIGH: required by the default consumer$/);
  });

  it('reads the AI models once, with their defaults', () => {
    expect(aiServices({})).toMatchObject({ chatModel: 'gpt-4o-mini', embeddingModel: 'text-embedding-3-small' });
    expect(aiServices({ OPENAI_MODEL: 'gpt-5-mini' }).chatModel).toBe('gpt-5-mini');
  });

  it('makes a missing setting or secret a permanent failure: every retry would meet it again', () => {
    expect(new ConfigError('openai-api-key is not configured')).toBeInstanceOf(PermanentError);
  });
});
