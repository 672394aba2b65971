/**
 * `npm run invoke -- <function> <event.json>`: runs one handler once with a sample event,
 * like `sam local invoke`, on a throwaway emulator and database (or AWS_ENDPOINT_URL and
 * DATABASE_URL when set), and prints what it returned.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { startFauxqs } from 'fauxqs';
import { queues, type QueueName } from '../catalogue/index.ts';
import { createSqsClient } from '../aws.ts';
import { readConfig } from '../config.ts';
import { migrateDatabase } from '../results/database.ts';
import { closeSharedDatabases, sharedDatabase } from '../results/shared-database.ts';
import { lambdaContext } from './lambda-context.ts';
import { laneEnvironment, provisionQueues } from './queues.ts';

const functionsDir = new URL('../../functions/', import.meta.url);
const functions = (await readdir(functionsDir)).filter((file) => file.endsWith('.ts')).map((file) => basename(file, '.ts'));
const [name, eventPath, ...extra] = process.argv.slice(2);
if (!name || !eventPath || extra.length > 0 || !functions.includes(name)) {
  console.error(`usage: npm run invoke -- <function> <event.json>\n  functions: ${functions.join(', ')}\n  events:    events/sqs/<queue>.json, or your own`);
  process.exit(2);
}
let event: unknown;
try {
  event = JSON.parse(await readFile(eventPath, 'utf8'));
} catch (error) {
  console.error(`invoke: cannot read ${eventPath}: ${(error as Error).message}`);
  process.exit(2);
}

process.env.POWERTOOLS_LOG_LEVEL ??= 'INFO';
const emulator = process.env.AWS_ENDPOINT_URL ? undefined : await startFauxqs({ port: 0, logger: false });
if (emulator) process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${emulator.port}`;
const config = readConfig(process.env);
const sqs = createSqsClient(config);
// Both lanes of every queue, as the stack sets them; settings given win.
for (const [variable, url] of Object.entries(laneEnvironment(await provisionQueues(sqs, config.stage)))) process.env[variable] ??= url;
await migrateDatabase(await sharedDatabase(config.database));

const { handler } = (await import(new URL(`${name}.ts`, functionsDir).href)) as { handler: (event: unknown, context: unknown) => Promise<unknown> };
const queue = /^consumer-(.+)$/.exec(name)?.[1] as QueueName | undefined;
const timeoutSeconds = queue && queue in queues ? queues[queue].timeoutSeconds : 30;
const context = lambdaContext({ functionName: `${config.stage}-${name}`, region: config.region, memoryMb: 512, deadline: Date.now() + timeoutSeconds * 1000 });
let exitCode = 0;
try {
  const result = await handler(event, context);
  console.log(JSON.stringify(result ?? null, null, 2));
} catch (error) {
  console.error(`invoke: the handler threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  exitCode = 1;
} finally {
  sqs.destroy();
  await closeSharedDatabases();
  await emulator?.stop();
}
process.exit(exitCode);
