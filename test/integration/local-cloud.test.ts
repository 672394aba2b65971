// Powertools (its commons, through the logger) adds its user agent to process.env.AWS_SDK_UA_APP_ID when first loaded:
// loaded here, before the test takes its snapshot of the environment.
import '@aws-lambda-powertools/logger';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { expect, it } from 'vitest';
import { newEnvelope } from '../../shared/envelope/envelope.ts';
import { startLocalCloud } from '../../shared/local/cloud.ts';
import { databaseKind } from '../support/database.ts';
import { dropSchema, startLocalCloudProcess } from '../support/local-cloud.ts';
import { waitFor } from '../support/wait.ts';

const api = async <T>(base: string, path: string): Promise<T> => (await fetch(`${base}${path}`)).json() as Promise<T>;

it(`npm start runs what any SQS client sends, stops on Ctrl-C, and keeps results and queued messages across a restart (${databaseKind})`, async () => {
  const first = await startLocalCloudProcess();
  try {
    expect(first.ready).toMatch(/local cloud ready in [\d.]+ s · dashboard http:\/\/\S+ · SQS\+S3 http:\/\/\S+ · Stripe webhook http:\/\/\S+\/webhook · bucket local-datacleanup-files · default=\S+local-default ai=\S+ data=\S+ billing=\S+/);

    const sqs = new SQSClient({ endpoint: first.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'any', secretAccessKey: 'any' } });
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'local-default' }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
    expect(Attributes).toMatchObject({ VisibilityTimeout: '1800', MaximumMessageSize: '1048576' });
    expect(JSON.parse(Attributes!.RedrivePolicy!)).toMatchObject({ maxReceiveCount: 9 });

    const task = newEnvelope('default.noop', { echo: 'hello' });
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(task) }));
    const done = await waitFor(async () => {
      const response = await fetch(`${first.dashboardUrl}/api/tasks/${task.id}`);
      const found = response.ok ? ((await response.json()) as { status: string; result: unknown }) : undefined;
      // The row exists from the claim on (STARTED); the assertion is about how it ended.
      return found && ['SUCCESS', 'FAILURE'].includes(found.status) ? found : undefined;
    }, 20_000, 'the task to finish');
    expect(done).toMatchObject({ status: 'SUCCESS', result: { echo: 'hello' } });

    const later = newEnvelope('default.noop', { echo: 'after the restart' });
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(later), DelaySeconds: 2 }));
    sqs.destroy();
    expect(await first.stop()).toBe(0);

    const second = await startLocalCloudProcess({ LOCAL_CLOUD_DIR: first.dir, ...(first.schema ? { DB_SCHEMA: first.schema } : {}) });
    try {
      expect(second.ready).toContain('1 queued messages restored');
      expect(await api(second.dashboardUrl, `/api/tasks/${task.id}`)).toMatchObject({ status: 'SUCCESS' });
      const restored = await waitFor(async () => {
        const response = await fetch(`${second.dashboardUrl}/api/tasks/${later.id}`);
        const found = response.ok ? ((await response.json()) as { status: string; result: unknown }) : undefined;
        return found && ['SUCCESS', 'FAILURE'].includes(found.status) ? found : undefined;
      }, 20_000, 'the restored message to run');
      expect(restored).toMatchObject({ status: 'SUCCESS', result: { echo: 'after the restart' } });
      expect(await second.stop()).toBe(0);
    } finally {
      await second.cleanUp();
    }
  } finally {
    await first.cleanUp();
  }
}, 90_000);

it(`fires every catalogue schedule onto its queue at its interval, on a compressed clock (${databaseKind})`, async () => {
  // 720×: five minutes pass in 0.42 s, an hour in 5 s.
  const cloud = await startLocalCloudProcess({ SCHEDULE_TIME_SCALE: '720' });
  try {
    type Summary = { id: string; name: string };
    const fired = await waitFor(async () => {
      const tasks = await api<Summary[]>(cloud.dashboardUrl, '/api/tasks?limit=1000');
      const of = (name: string) => tasks.filter((t) => t.id.startsWith(`${name}:`));
      return of('cleanup-temp-files').length >= 1 && of('process-webhooks').length >= 10 ? { hourly: of('cleanup-temp-files'), fiveMinutes: of('process-webhooks') } : undefined;
    }, 30_000, 'the schedules to fire');
    expect(fired.hourly[0]!.name).toBe('data.cleanup_temp_files');
    expect(fired.fiveMinutes[0]!.name).toBe('billing.process_pending_webhooks');
    const times = fired.fiveMinutes.map((t) => Date.parse(t.id.slice('process-webhooks:'.length))).sort((a, b) => a - b);
    expect(new Set(times.slice(1).map((time, i) => time - times[i]!))).toEqual(new Set([300_000]));
    const schedules = await api<{ name: string; nextRuns: string[] }[]>(cloud.dashboardUrl, '/api/schedules');
    expect(schedules.find((s) => s.name === 'cleanup-task-results')!.nextRuns[0]).toMatch(/T03:00:00.000Z$/);
  } finally {
    await cloud.cleanUp();
  }
}, 60_000);

it(`builds its consumers from a copy of the environment it is given, leaving that and the process's own as they were (${databaseKind})`, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'taskq-cloud-'));
  const databaseUrl = process.env.DATABASE_URL;
  const schema = databaseUrl ? `cloud_${randomUUID().replaceAll('-', '').slice(0, 10)}` : undefined;
  // Frozen: the cloud writing its endpoint, queue URLs or bucket into it would throw.
  const given = Object.freeze({ ...process.env, ...(schema ? { DB_SCHEMA: schema } : {}) });
  const before = { ...process.env };
  const cloud = await startLocalCloud({ env: given, port: 0, dashboardPort: 0, webhookPort: 0, dataDir: dir });
  try {
    expect(process.env).toEqual(before);
    expect(Object.keys(process.env).filter((name) => /^(QUEUE_URL|DLQ_URL)_|^FILES_BUCKET$|^TASK_ETA_/.test(name))).toEqual([]);

    const sqs = new SQSClient({ endpoint: cloud.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'any', secretAccessKey: 'any' } });
    const task = newEnvelope('default.noop', { echo: 'configured from a copy' });
    await sqs.send(new SendMessageCommand({ QueueUrl: cloud.queues.default.url, MessageBody: JSON.stringify(task) }));
    sqs.destroy();
    const done = await waitFor(async () => {
      const found = await api<{ status?: string; result?: unknown }>(cloud.dashboardUrl, `/api/tasks/${task.id}`);
      return found.status && ['SUCCESS', 'FAILURE'].includes(found.status) ? found : undefined;
    }, 20_000, 'the task to finish');
    expect(done).toMatchObject({ status: 'SUCCESS', result: { echo: 'configured from a copy' } });
    expect(cloud.etaScheduleGroup).toBe('local-task-etas');
  } finally {
    await cloud.stop();
    await rm(dir, { recursive: true, force: true });
    if (schema && databaseUrl) await dropSchema(databaseUrl, schema);
  }
}, 60_000);
