import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { expect, it } from 'vitest';
import { newEnvelope } from '../../shared/envelope/envelope.ts';
import { migrateDatabase, openDatabase } from '../../shared/results/database.ts';
import { databaseKind, taskRow } from '../support/database.ts';
import { waitFor } from '../support/wait.ts';

it(`npm start runs a message sent by any SQS client to the printed endpoint, and keeps its row after Ctrl-C (${databaseKind})`, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'taskq-local-'));
  const child = spawn(process.execPath, ['shared/local/start.ts'], {
    env: { ...process.env, LOCAL_CLOUD_PORT: '0', LOCAL_CLOUD_DIR: dir, POWERTOOLS_LOG_LEVEL: 'ERROR' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  try {
    const ready = await new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout });
      lines.on('line', (line) => line.startsWith('local cloud ready') && resolve(line));
      child.on('exit', () => reject(new Error('the local cloud exited before it was ready')));
    });
    const endpoint = /SQS (http:\/\/\S+)/.exec(ready)![1]!;
    expect(ready).toMatch(/default=\S+local-default ai=\S+local-ai data=\S+local-data billing=\S+local-billing/);

    const sqs = new SQSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'any', secretAccessKey: 'any' } });
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'local-default' }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
    expect(Attributes).toMatchObject({ VisibilityTimeout: '1800', MaximumMessageSize: '1048576' });
    expect(JSON.parse(Attributes!.RedrivePolicy!)).toMatchObject({ maxReceiveCount: 9 });

    const task = newEnvelope('default.noop', { echo: 'hello' });
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(task) }));
    await waitFor(async () => {
      const { Attributes: a = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
      return a.ApproximateNumberOfMessages === '0' && a.ApproximateNumberOfMessagesNotVisible === '0';
    }, 20_000, 'the message to be consumed');
    sqs.destroy();

    child.kill('SIGINT');
    expect(await exited).toBe(0);

    const database = await openDatabase(process.env.DATABASE_URL ? { kind: 'postgres', url: process.env.DATABASE_URL } : { kind: 'pglite', dataDir: join(dir, 'pglite') });
    await migrateDatabase(database);
    const row = await taskRow(database, task.id);
    await database.close();
    expect(row).toMatchObject({ status: 'SUCCESS', attempts: 1, name: 'default.noop' });
    expect(JSON.parse(row!.result!)).toEqual({ echo: 'hello' });
  } finally {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}, 60_000);
