import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newEnvelope, type Envelope } from '../../shared/envelope/envelope.ts';
import { afterAll, beforeAll } from 'vitest';
import { openTestDatabase } from '../support/database.ts';
import { startEmulator } from '../support/emulator.ts';
import { EffectsJournal } from './effects.ts';

/** A fault_work envelope. */
export function work(n: number, ms: number, fields: Partial<Envelope> = {}): Envelope {
  return newEnvelope('default.fault_work', { n, ms }, fields);
}

/**
 * Sends bodies as a producer would, ten to a batch while they fit in SQS's 1 MiB per
 * call, and returns each one's SQS message id (a rejected message without a usable
 * task id is filed under it).
 */
export async function sendTracked(sqs: SQSClient, queueUrl: string, bodies: readonly string[]): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < bodies.length; ) {
    let end = start;
    let bytes = 0;
    while (end < bodies.length && end - start < 10 && bytes + Buffer.byteLength(bodies[end]!) < 900_000) bytes += Buffer.byteLength(bodies[end++]!);
    if (end === start) {
      const response = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: bodies[start]! }));
      ids.push(response.MessageId!);
      start++;
      continue;
    }
    const response = await sqs.send(
      new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: bodies.slice(start, end).map((body, index) => ({ Id: `e${index}`, MessageBody: body })) }),
    );
    if (response.Failed?.length) throw new Error(`send failed: ${JSON.stringify(response.Failed)}`);
    const byEntry = new Map((response.Successful ?? []).map((entry) => [entry.Id, entry.MessageId!]));
    for (let index = 0; index < end - start; index++) ids.push(byEntry.get(`e${index}`)!);
    start = end;
  }
  return ids;
}

/** A fresh directory with an effects journal in it; `remove` deletes both. */
export async function scratch(prefix: string) {
  const dir = await mkdtemp(join(tmpdir(), `taskq-${prefix}-`));
  return { dir, journal: new EffectsJournal(join(dir, 'effects.log')), remove: () => rm(dir, { recursive: true, force: true }) };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The hooks an in-process scenario needs: one emulator, one result store and a scratch folder for the file. */
export function inProcessScenario(name: string) {
  const scenario = {} as {
    emulator: Awaited<ReturnType<typeof startEmulator>>;
    store: Awaited<ReturnType<typeof openTestDatabase>>;
    files: Awaited<ReturnType<typeof scratch>>;
  };
  beforeAll(async () => {
    scenario.emulator = await startEmulator();
    scenario.store = await openTestDatabase();
    scenario.files = await scratch(name);
  });
  afterAll(async () => {
    await scenario.store?.close();
    await scenario.emulator?.stop();
    await scenario.files?.remove();
  });
  return scenario;
}
