import { randomUUID } from 'node:crypto';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEnvelope } from '../../shared/envelope/envelope.ts';
import type { LocalCloud } from '../../shared/local/cloud.ts';
import { TaskProducer } from '../../shared/producer/producer.ts';
import { databaseKind } from '../support/database.ts';
import { startEmbeddedCloud } from '../support/local-cloud.ts';
import { waitFor } from '../support/wait.ts';

const backlog = 2_000;
const quietTasks = 20;

/**
 * SQS fair queues on the local cloud: every send carries the task's tenant as its
 * MessageGroupId, and the emulator delivers as a fair queue does, so a tenant's backlog
 * does not hold up another tenant's few tasks.
 */
describe(`fair queues per tenant on the local cloud (${databaseKind})`, () => {
  let cloud: LocalCloud;
  let sqs: SQSClient;
  let cleanUp: (() => Promise<void>) | undefined;
  let producer: TaskProducer;

  beforeAll(async () => {
    ({ cloud, sqs, cleanUp } = await startEmbeddedCloud('fair'));
    producer = new TaskProducer({ sqs, queueUrls: { default: cloud.queues.default.url }, longDelays: null });
  }, 60_000);
  afterAll(() => cleanUp?.(), 60_000);

  const control = async (action: 'pause' | 'resume') => {
    const response = await fetch(`${cloud.dashboardUrl}/api/control/queues/default/${action}`, { method: 'POST' });
    expect(response.status).toBe(200);
  };
  const task = async (id: string) => (await (await fetch(`${cloud.dashboardUrl}/api/tasks/${id}`)).json()) as { status?: string; dateDone?: string };
  const queued = async () => {
    const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: cloud.queues.default.url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
  };

  /** A floods the queue, then B sends a few: from when the consumer starts, how long B's took, how long A's backlog took, and what of A's was left when B's were done. */
  async function flood(tenants: { noisy?: string; quiet?: string }) {
    const sendAll = (count: number, tenant: string | undefined, label: string) =>
      producer.sendBatch(Array.from({ length: count }, (_, n) => ({ task: 'default.noop', payload: { echo: `${label}-${n}` }, ...(tenant ? { options: { tenant } } : {}) })));
    // The consumer keeps up with one producer of no-ops: paused, the queue holds A's backlog, then B's tasks behind it.
    await control('pause');
    await sendAll(backlog, tenants.noisy, 'a');
    const quiet = await sendAll(quietTasks, tenants.quiet, 'b');
    const started = Date.now();
    await control('resume');
    const pending = new Set(quiet.map((result) => result.id));
    let quietDone = 0;
    let leftWhenQuietDone = -1;
    await waitFor(async () => {
      for (const id of [...pending]) {
        const done = await task(id);
        if (done.status === 'SUCCESS') {
          pending.delete(id);
          quietDone = Math.max(quietDone, Date.parse(done.dateDone!));
        }
      }
      if (pending.size === 0 && leftWhenQuietDone < 0) leftWhenQuietDone = await queued();
      return leftWhenQuietDone >= 0 && (await queued()) === 0;
    }, 120_000, 'both tenants to finish');
    const backlogDone = Date.now();
    return { quietMs: quietDone - started, backlogMs: backlogDone - started, leftWhenQuietDone };
  }

  it(`runs a quiet tenant's ${quietTasks} tasks long before a noisy tenant's backlog of ${backlog}, which without tenants they wait behind`, async () => {
    const fair = await flood({ noisy: 'tenant-a', quiet: 'tenant-b' });
    const unfair = await flood({});
    console.log(`fair queues: tenant B's ${quietTasks} tasks done in ${fair.quietMs} ms with ${fair.leftWhenQuietDone} of tenant A's ${backlog} still queued; A's backlog drained in ${fair.backlogMs} ms`);
    console.log(`without tenants: B's done in ${unfair.quietMs} ms with ${unfair.leftWhenQuietDone} of A's still queued; A's drained in ${unfair.backlogMs} ms`);
    // With its own group, B overtakes most of A's backlog; without one, it waits its turn behind it.
    expect(fair.leftWhenQuietDone).toBeGreaterThan(backlog / 4);
    expect(fair.quietMs).toBeLessThan(fair.backlogMs / 3);
    expect(unfair.leftWhenQuietDone).toBeLessThan(backlog / 10);
    expect(unfair.quietMs).toBeGreaterThan(unfair.backlogMs / 2);
  }, 180_000);

  it("keeps a standard queue's MessageGroupId for receivers, and refuses what SQS refuses there", async () => {
    const { QueueUrl: probe } = await sqs.send(new CreateQueueCommand({ QueueName: `fairness-probe-${randomUUID().slice(0, 8)}` }));
    const body = JSON.stringify(newEnvelope('default.noop', {}));
    await sqs.send(new SendMessageCommand({ QueueUrl: probe, MessageBody: body, MessageGroupId: 'user:42' }));
    const batch = await sqs.send(new SendMessageBatchCommand({ QueueUrl: probe, Entries: [{ Id: 'ok', MessageBody: body, MessageGroupId: 'user:43' }, { Id: 'bad', MessageBody: body, MessageGroupId: 'x'.repeat(129) }] }));
    expect(batch.Successful?.map((entry) => entry.Id)).toEqual(['ok']);
    expect(batch.Failed).toEqual([expect.objectContaining({ Id: 'bad', Code: 'InvalidParameterValue', SenderFault: true })]);
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: probe, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['MessageGroupId'] }));
    expect(Messages.map((message) => message.Attributes?.MessageGroupId).sort()).toEqual(['user:42', 'user:43']);
    await expect(sqs.send(new SendMessageCommand({ QueueUrl: probe, MessageBody: body, MessageGroupId: 'has space' }))).rejects.toMatchObject({ name: expect.stringMatching(/InvalidParameterValue$/) });
    await expect(sqs.send(new SendMessageCommand({ QueueUrl: probe, MessageBody: body, MessageDeduplicationId: 'once' }))).rejects.toMatchObject({ name: expect.stringMatching(/InvalidParameterValue$/) });
  });
});
