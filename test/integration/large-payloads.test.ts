import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { newEnvelope } from '../../shared/envelope/envelope.ts';
import { chord, signatureByName } from '../../shared/producer/workflow.ts';
import { payloadPrefix, payloadRefOf } from '../../shared/results/payloads.ts';
import { noop } from '../../shared/tasks/default.ts';
import { sendBodies } from '../support/consumer.ts';
import { databaseKind, taskRow } from '../support/database.ts';
import { region } from '../support/emulator.ts';
import { emulatorSuite } from '../support/emulator-suite.ts';
import { waitFor } from '../support/wait.ts';

/**
 * Payloads of any size: over 256 KiB a payload is put in the files bucket and the message
 * carries its reference (the claim-check pattern); the consumer reads it before the task
 * runs and deletes it when the task has succeeded.
 */
describe(`payloads sent by reference, through the emulator's S3 and ${databaseKind}`, () => {
  const bucket = 'large-payloads';
  const suite = emulatorSuite({ resultsBucket: bucket, implementations: [noop] });
  let s3: S3Client;

  beforeAll(() => {
    s3 = new S3Client({ endpoint: suite.emulator.endpoint, region, forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  });
  afterAll(() => {
    s3?.destroy();
  });
  beforeEach(() => {
    suite.start();
  });

  const payloadObjects = async () => (await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: payloadPrefix }))).Contents?.map((object) => object.Key!) ?? [];
  const finished = (id: string) => waitFor(async () => {
    const row = await taskRow(suite.db.database, id);
    return row && ['SUCCESS', 'FAILURE', 'REVOKED'].includes(row.status) ? row : undefined;
  }, 30_000, `${id} to finish`);

  it('runs tasks whose payloads are 300 KiB and 3 MiB (three times what SQS carries), and deletes their objects once they succeed', async () => {
    const echoes = ['a'.repeat(300 * 1024), 'b'.repeat(3 * 1024 * 1024)];
    const sent = await Promise.all(echoes.map((echo) => suite.producer.sendMessage('default.noop', { echo })));
    for (const message of sent) {
      expect(message.envelope).toMatchObject({ payload: {}, payloadRef: { key: expect.stringMatching(/^task-payloads\//), bytes: expect.any(Number) } });
      expect(message.body.length).toBeLessThan(1024);
    }
    for (const [n, message] of sent.entries()) {
      const result = await suite.producer.result(message.envelope.id).get({ timeout: 30_000 });
      expect((result as { echo: string }).echo === echoes[n]).toBe(true);
    }
    await waitFor(async () => (await payloadObjects()).length === 0, 10_000, 'the payload objects to be deleted');
    // A small payload is sent in its message, as always.
    expect((await suite.producer.sendMessage('default.noop', { echo: 'small' })).envelope.payloadRef).toBeUndefined();
  });

  it('acknowledges a copy of a task that succeeded after its object is gone, without running it again', async () => {
    const sent = await suite.producer.sendMessage('default.noop', { echo: 'c'.repeat(300 * 1024) });
    await suite.producer.result(sent.envelope.id).get({ timeout: 30_000 });
    await waitFor(async () => (await payloadObjects()).length === 0, 10_000, 'the payload object to be deleted');
    await sendBodies(suite.emulator.sqs, suite.queue.url, [sent.body]);
    await waitFor(async () => {
      const { Attributes } = await suite.emulator.sqs.send(new GetQueueAttributesCommand({ QueueUrl: suite.queue.url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
      return Number(Attributes?.ApproximateNumberOfMessages) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible) === 0;
    }, 20_000, 'the copy to be acknowledged');
    expect(await taskRow(suite.db.database, sent.envelope.id)).toMatchObject({ status: 'SUCCESS', attempts: 1 });
    expect(await dead()).toEqual([]);
  });

  async function dead() {
    const { Messages = [] } = await suite.emulator.sqs.send(new ReceiveMessageCommand({ QueueUrl: suite.queue.deadLetterUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], WaitTimeSeconds: 0 }));
    return Messages.map((message) => message.MessageAttributes?.['taskq.failure.reason']?.StringValue ?? '');
  }

  it('refuses a reference whose object is missing or altered, recording the reason and dead-lettering the message', async () => {
    const text = JSON.stringify({ echo: 'd'.repeat(300 * 1024) });
    const missing = newEnvelope('default.noop', {}, { payloadRef: payloadRefOf('never-put', text) });
    const alteredRef = payloadRefOf('altered', text);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: alteredRef.key, Body: JSON.stringify({ echo: 'not what was sent' }) }));
    const altered = newEnvelope('default.noop', {}, { payloadRef: alteredRef });
    await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(missing), JSON.stringify(altered)]);
    expect(await finished(missing.id)).toMatchObject({ status: 'FAILURE', error: expect.stringMatching(/payload object task-payloads\/never-put\/[0-9a-f]{64}\.json does not exist/) });
    expect(await finished(altered.id)).toMatchObject({ status: 'FAILURE', error: expect.stringMatching(/not the \d+ bytes and digest its reference names/) });
    await waitFor(async () => (await dead()).length === 2 || undefined, 10_000, 'both dead letters');
  });

  it("sends a chord's callback by reference when the gathered results are more than a message holds, and keeps a failed task's object for its redrive", async () => {
    // 3 × 400 KiB: over SQS's 1 MiB, so the callback can only be sent by reference.
    const members = Array.from({ length: 3 }, () => signatureByName('default.test_text', { chars: 400 * 1024 }));
    const callback = signatureByName('default.test_text', { chars: 0 });
    const handle = await suite.producer.apply(chord(members, callback));
    expect(await handle.get({ timeout: 30_000 })).toEqual([400 * 1024, 400 * 1024, 400 * 1024]);
    // The callback's object was put before its message was sent, and deleted once it succeeded.
    await waitFor(async () => !(await payloadObjects()).some((key) => key.startsWith(`${payloadPrefix}${encodeURIComponent(callback.id)}/`)), 10_000, "the callback's payload object to be deleted");

    const failing = await suite.producer.sendMessage('default.test_text', { chars: 10, fail: true, results: ['e'.repeat(300 * 1024)] });
    expect(failing.envelope.payloadRef).toBeDefined();
    expect(await finished(failing.envelope.id)).toMatchObject({ status: 'FAILURE' });
    expect(await payloadObjects()).toContain(failing.envelope.payloadRef!.key);
  });
});
