import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll } from 'vitest';
import pg from 'pg';
import { readConfig } from '../../shared/config.ts';
import { startLocalCloud, type LocalCloud, type LocalCloudOptions } from '../../shared/local/cloud.ts';
import { localCloudNodeFlags } from '../../shared/local/node-flags.ts';
import type { Database } from '../../shared/results/database.ts';
import { sharedDatabase } from '../../shared/results/shared-database.ts';

/**
 * The local cloud in this process, on free ports, with a data folder (PGlite) or a schema
 * (PostgreSQL) of its own, and an SQS client for it: for tests that time the pollers or
 * read the emulator, which a child process would hide. A variable set to undefined in
 * `extraEnv` is left out of the cloud's environment. `database()` is the cloud's own result-store handle.
 */
export async function startEmbeddedCloud(
  prefix: string,
  options: Partial<LocalCloudOptions> & { extraEnv?: Record<string, string | undefined> } = {},
): Promise<{ cloud: LocalCloud; sqs: SQSClient; database: () => Promise<Database>; cleanUp: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `taskq-${prefix}-`));
  const schema = process.env.DATABASE_URL ? `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 10)}` : undefined;
  const { extraEnv = {}, ...cloudOptions } = options;
  const env = Object.fromEntries(Object.entries({ ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR', ...(schema ? { DB_SCHEMA: schema } : {}), ...extraEnv }).filter(([, value]) => value !== undefined));
  const cloud = await startLocalCloud({ env, port: 0, dashboardPort: 0, webhookPort: 0, dataDir: dir, ...cloudOptions });
  const sqs = new SQSClient({ endpoint: cloud.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'any', secretAccessKey: 'any' } });
  // The target the cloud opened, from what it added to its environment: the same target is the same shared handle (PGlite allows one opener).
  const cloudEnv = { ...env, AWS_ENDPOINT_URL: cloud.endpoint, RESULTS_BUCKET: env.RESULTS_BUCKET ?? cloud.bucket, ...(env.DATABASE_URL || env.PGLITE_DIR ? {} : { PGLITE_DIR: join(dir, 'pglite') }) };
  return {
    cloud,
    sqs,
    database: () => sharedDatabase(readConfig(cloudEnv).database),
    async cleanUp() {
      sqs.destroy();
      await cloud.stop();
      await rm(dir, { recursive: true, force: true });
      if (schema && process.env.DATABASE_URL) await dropSchema(process.env.DATABASE_URL, schema);
    },
  };
}

/**
 * `npm start` in a process of its own (its Node flags included), on free ports, with a data folder (PGlite) or a
 * schema (PostgreSQL) of its own. Resolves once it prints its ready line. A variable set
 * to undefined in `extraEnv` is left out of the process's environment.
 */
export async function startLocalCloudProcess(extraEnv: Record<string, string | undefined> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'taskq-cloud-'));
  const databaseUrl = 'DATABASE_URL' in extraEnv ? extraEnv.DATABASE_URL : process.env.DATABASE_URL;
  const schema = databaseUrl ? `cloud_${randomUUID().replaceAll('-', '').slice(0, 10)}` : undefined;
  const child = spawn(process.execPath, [...localCloudNodeFlags, 'shared/local/start.ts'], {
    env: {
      ...process.env,
      LOCAL_CLOUD_PORT: '0',
      DASHBOARD_PORT: '0',
      WEBHOOK_PORT: '0',
      LOCAL_CLOUD_DIR: dir,
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      ...(schema ? { DB_SCHEMA: schema } : {}),
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderr.push(line);
    process.stderr.write(`${line}\n`);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const ready = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => line.startsWith('local cloud ready') && resolve(line));
    child.on('exit', (code) => reject(new Error(`the local cloud exited (${code}) before it was ready`)));
  });
  const field = (pattern: RegExp) => pattern.exec(ready)?.[1] ?? '';
  return {
    ready,
    pid: child.pid!,
    dir,
    schema,
    endpoint: field(/SQS\+S3 (http:\/\/\S+)/),
    dashboardUrl: field(/dashboard (http:\/\/\S+)/),
    webhookUrl: field(/Stripe webhook (http:\/\/\S+)/),
    queueUrl: (queue: string) => field(new RegExp(`${queue}=(\\S+)`)),
    /** What it has printed on stderr so far (its `[source] message` error lines), also passed on to the test's stderr. */
    stderr,
    /** Ctrl-C, then the exit code. */
    async stop(): Promise<number | null> {
      child.kill('SIGINT');
      return exited;
    },
    async cleanUp() {
      child.kill('SIGKILL');
      await exited;
      await rm(dir, { recursive: true, force: true });
      if (schema && databaseUrl) await dropSchema(databaseUrl, schema);
    },
  };
}

/** Drops a test's own schema on the PostgreSQL server a local cloud used. */
export async function dropSchema(databaseUrl: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await client.end();
  }
}

export type LocalCloudProcess = Awaited<ReturnType<typeof startLocalCloudProcess>>;

/**
 * `npm start` in a process of its own for the tests of one describe block, with an SQS
 * client on its endpoint: started before them, cleaned up after. Read `cloud` and `sqs`
 * inside the tests.
 */
export function localCloudForSuite(extraEnv: Record<string, string | undefined> = {}): { readonly cloud: LocalCloudProcess; readonly sqs: SQSClient } {
  let cloud: LocalCloudProcess | undefined;
  let sqs: SQSClient | undefined;
  beforeAll(async () => {
    cloud = await startLocalCloudProcess(extraEnv);
    sqs = new SQSClient({ endpoint: cloud.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  });
  afterAll(async () => {
    sqs?.destroy();
    await cloud?.cleanUp();
  });
  return {
    get cloud() {
      if (!cloud) throw new Error('the local cloud is not started yet: read it inside a test');
      return cloud;
    },
    get sqs() {
      if (!sqs) throw new Error('the local cloud is not started yet: read it inside a test');
      return sqs;
    },
  };
}
