/**
 * Where the local cloud's memory goes: `npm start`'s parts brought up one after another in
 * this process, in the order startLocalCloud brings them up, with the process's memory read
 * after each (VmRSS and VmHWM from /proc/self/status, the V8 heap, external memory and
 * external memory; PGlite runs on a worker thread of this process, so its WebAssembly memory
 * is in the RSS), then optionally `--tasks N` default.noop tasks through the
 * default queue's poller, sampled as they run.
 *
 * `node --expose-gc --liftoff-only --max-semi-space-size=16 test/bench/cloud-components.ts [--tasks N] [--dir DIR] [--json] >/dev/null`
 * (npm start's Node flags, shared/local/node-flags.ts; with --expose-gc each reading follows
 * a full collection, so the heap is what is live).
 * The table (or the JSON) goes to stderr: stdout carries the consumers' logs and metrics, as in Lambda.
 * A fresh temporary folder holds PGlite unless --dir names one, so the figures are a fresh
 * start's; run it twice with the same --dir for a restart's.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { SqsHandler as Handler } from '../../shared/local/poller.ts';

const { values } = parseArgs({
  options: { tasks: { type: 'string', default: '0' }, dir: { type: 'string' }, json: { type: 'boolean', default: false } },
});
const tasks = Number(values.tasks);
const started = performance.now();

export interface Reading {
  readonly step: string;
  readonly seconds: number;
  readonly rssMb: number;
  readonly peakRssMb: number;
  readonly heapUsedMb: number;
  readonly heapTotalMb: number;
  readonly externalMb: number;
}

const mib = (bytes: number) => bytes / 1_048_576;
const readings: Reading[] = [];

function read(step: string): Reading {
  (globalThis as { gc?: () => void }).gc?.();
  const status = readFileSync('/proc/self/status', 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  const usage = process.memoryUsage();
  const reading = {
    step,
    seconds: (performance.now() - started) / 1000,
    rssMb: kib('VmRSS') / 1024,
    peakRssMb: kib('VmHWM') / 1024,
    heapUsedMb: mib(usage.heapUsed),
    heapTotalMb: mib(usage.heapTotal),
    externalMb: mib(usage.external),
  };
  readings.push(reading);
  if (!values.json) console.error(`${step}: ${reading.rssMb.toFixed(0)} MiB`);
  return reading;
}

read('node');
// As the local cloud's entry does, before anything else is imported.
const { registerModuleFormatCache } = await import('../../shared/local/module-format.ts');
registerModuleFormatCache();
const dataDir = values.dir ?? (await mkdtemp(join(tmpdir(), 'taskq-components-')));
// The cloud's own environment, as startLocalCloud builds it: what it was given, then what it provides.
const env: Record<string, string | undefined> = { ...process.env, DATABASE_URL: undefined, DB_SCHEMA: undefined, AWS_ENDPOINT_URL: undefined };
env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';

const { startFauxqsOn } = await import('../../shared/local/fauxqs-fixes.ts');
const { startSqsQueryProtocol } = await import('../../shared/local/sqs-query-protocol.ts');
const { SchedulerApi } = await import('../../shared/local/scheduler-api.ts');
const emulator = await startFauxqsOn('127.0.0.1', { port: 0, logger: false });
const schedulerApi = new SchedulerApi({ region: 'us-east-1' });
const front = await startSqsQueryProtocol({ port: 0, host: '127.0.0.1', upstreamPort: emulator.port, otherHandlers: [schedulerApi] });
read('SQS+S3 emulator (fauxqs) and its front');

env.PGLITE_DIR = join(dataDir, 'pglite');
env.AWS_ENDPOINT_URL = front.url;
env.FILES_BUCKET = 'local-datacleanup-files';
env.RESULTS_BUCKET = env.FILES_BUCKET;
const { readConfig } = await import('../../shared/config.ts');
const { sharedDatabase, closeSharedDatabases } = await import('../../shared/results/shared-database.ts');
const { migrateDatabase } = await import('../../shared/results/database.ts');
read('result store modules imported');
const config = readConfig(env);
const database = await sharedDatabase(config.database);
read('PGlite open');
await migrateDatabase(database);
read('migrations applied');

const { queueNames, queues } = await import('../../shared/catalogue/index.ts');
const { createSqsClient } = await import('../../shared/aws.ts');
const { laneEnvironment, provisionQueues } = await import('../../shared/local/queues.ts');
const sqs = createSqsClient(config);
const provisioned = await provisionQueues(sqs, config.stage);
Object.assign(env, laneEnvironment(provisioned));
read('queues provisioned');

const { consumerFactories } = await import('../../shared/consumers/index.ts');
const handlers = {} as Record<(typeof queueNames)[number], Handler>;
for (const name of queueNames) {
  handlers[name] = (await consumerFactories[name]())(env);
  read(`consumer-${name} imported and built`);
}

const { pollerFor } = await import('../../shared/local/poller.ts');
const pollers = queueNames.map((name) =>
  pollerFor(queues[name], {
    sqs,
    queueUrl: provisioned[name].url,
    queueArn: provisioned[name].arn,
    region: config.region,
    functionName: `${config.stage}-consumer-${name}`,
    handler: handlers[name],
  }),
);
for (const poller of pollers) poller.start();
read('pollers started');

const { TaskOperations } = await import('../../shared/operations/index.ts');
const { longDelaysFromConfig } = await import('../../shared/producer/long-delay.ts');
const { startDashboard } = await import('../../shared/local/dashboard/server.ts');
const { startWebhookServer } = await import('../../shared/local/webhook-server.ts');
const operations = new TaskOperations({ sqs, database, queues: provisioned, longDelays: longDelaysFromConfig(readConfig(env)), oldestAge: async () => 0 });
const dashboard = await startDashboard(operations, 0, '127.0.0.1');
const webhook = await startWebhookServer({ port: 0, host: '127.0.0.1', env, sqs, billingQueueUrl: provisioned.billing.url });
read('dashboard and webhook receiver started');

if (tasks > 0) {
  const { TaskProducer } = await import('../../shared/producer/producer.ts');
  const { queueDepth } = await import('../support/sqs.ts');
  const producer = new TaskProducer({ longDelays: null, sqs, queueUrls: { default: provisioned.default.url } });
  const { feedNoopTasks } = await import('./memory.ts');
  let next = 0;
  await feedNoopTasks(producer, () => queueDepth(sqs, provisioned.default.url), tasks, (completed) => {
    if (completed >= next && completed < tasks) {
      read(`${completed.toLocaleString('en-US')} tasks done`);
      next += Math.max(1_000, tasks / 10);
    }
  });
  read(`${tasks.toLocaleString('en-US')} tasks done`);
}

await Promise.all([dashboard.stop(), webhook.stop()]);
await Promise.all(pollers.map((poller) => poller.stop()));
sqs.destroy();
await closeSharedDatabases();
await front.stop();
await emulator.stop();
if (!values.dir) await rm(dataDir, { recursive: true, force: true });

if (values.json) {
  console.error(JSON.stringify(readings));
} else {
  const cell = (value: number) => value.toFixed(0);
  console.error('| step | s | RSS MiB | Δ RSS | VmHWM MiB | heap used | heap total | external |');
  console.error('|---|---:|---:|---:|---:|---:|---:|---:|');
  readings.forEach((r, i) => {
    const delta = i === 0 ? r.rssMb : r.rssMb - readings[i - 1]!.rssMb;
    console.error(`| ${r.step} | ${r.seconds.toFixed(1)} | ${cell(r.rssMb)} | ${delta >= 0 ? '+' : ''}${cell(delta)} | ${cell(r.peakRssMb)} | ${cell(r.heapUsedMb)} | ${cell(r.heapTotalMb)} | ${cell(r.externalMb)} |`);
  });
}
process.exit(0);
