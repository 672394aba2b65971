import { randomUUID } from 'node:crypto';
import { GetQueueAttributesCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEnvelope } from '../../shared/envelope/envelope.ts';
import type { LocalCloud } from '../../shared/local/cloud.ts';
import { laneUrlsOf } from '../../shared/operations/index.ts';
import { TaskProducer } from '../../shared/producer/producer.ts';
import { chain, signature } from '../../shared/producer/workflow.ts';
import { databaseKind } from '../support/database.ts';
import { startEmbeddedCloud } from '../support/local-cloud.ts';
import { waitFor } from '../support/wait.ts';

const backlog = 1_000;

/**
 * Priority lanes on the local cloud: each queue has a high-priority queue beside it, with its
 * own dead-letter queue and its own event source on the same consumer, so a high-priority
 * task does not wait behind the queue's backlog.
 */
describe(`priority lanes on the local cloud (${databaseKind})`, () => {
  let cloud: LocalCloud;
  let sqs: SQSClient;
  let cleanUp: (() => Promise<void>) | undefined;
  let producer: TaskProducer;

  beforeAll(async () => {
    ({ cloud, sqs, cleanUp } = await startEmbeddedCloud('priority'));
    producer = new TaskProducer({ sqs, queueUrls: laneUrlsOf(cloud.queues), longDelays: null });
  }, 60_000);
  afterAll(() => cleanUp?.(), 60_000);

  const api = async <T>(path: string, method = 'GET') => {
    const response = await fetch(`${cloud.dashboardUrl}${path}`, { method });
    expect(response.status, path).toBe(200);
    return (await response.json()) as T;
  };
  const control = (queue: string, action: 'pause' | 'resume') => api(`/api/control/queues/${queue}/${action}`, 'POST');
  const task = async (id: string) => (await (await fetch(`${cloud.dashboardUrl}/api/tasks/${id}`)).json()) as { status?: string; dateDone?: string };
  const waiting = async (url: string) => {
    const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
  };

  /** A backlog on the default queue, then one task behind it: how long that one took from the resume, and how much of the backlog was left then. */
  async function behindBacklog(priority: 'normal' | 'high') {
    await control('default', 'pause');
    await producer.sendBatch(Array.from({ length: backlog }, (_, n) => ({ task: 'default.noop', payload: { echo: `backlog-${n}` } })));
    const late = await producer.send('default.noop', { echo: `late-${priority}` }, { priority });
    const started = Date.now();
    await control('default', 'resume');
    let leftWhenDone = -1;
    let lateMs = 0;
    await waitFor(async () => {
      if (leftWhenDone < 0) {
        const done = await task(late.id);
        if (done.status === 'SUCCESS') {
          lateMs = Date.parse(done.dateDone!) - started;
          leftWhenDone = await waiting(cloud.queues.default.url);
        }
      }
      return leftWhenDone >= 0 && (await waiting(cloud.queues.default.url)) === 0;
    }, 120_000, 'the backlog and the late task to finish');
    return { lateMs, backlogMs: Date.now() - started, leftWhenDone };
  }

  it(`runs a high-priority task past a backlog of ${backlog}, which a normal one waits behind`, async () => {
    const high = await behindBacklog('high');
    const normal = await behindBacklog('normal');
    console.log(`high priority: done ${high.lateMs} ms after the resume, with ${high.leftWhenDone} of the ${backlog} still queued; the backlog drained in ${high.backlogMs} ms`);
    console.log(`normal priority: done ${normal.lateMs} ms after the resume, with ${normal.leftWhenDone} still queued; the backlog drained in ${normal.backlogMs} ms`);
    expect(high.leftWhenDone).toBeGreaterThan(backlog / 2);
    expect(high.lateMs).toBeLessThan(high.backlogMs / 3);
    expect(normal.leftWhenDone).toBeLessThan(backlog / 10);
    expect(normal.lateMs).toBeGreaterThan(normal.backlogMs / 2);
  }, 180_000);

  it("sends a task to its catalogue's lane, and what a high-priority message starts to the high lanes", async () => {
    await control('billing', 'pause');
    await control('ai', 'pause');
    try {
      // billing.process_refund is high priority in the catalogue; a send may still ask for normal.
      await producer.send('billing.process_refund', { paymentIntentId: 'pi_lane', reason: 'duplicate' });
      await producer.send('billing.process_refund', { paymentIntentId: 'pi_lane_normal', reason: 'duplicate' }, { priority: 'normal' });
      await waitFor(async () => (await waiting(cloud.queues.billing.highPriority.url)) === 1 && (await waiting(cloud.queues.billing.url)) === 1, 10_000, 'one refund on each billing lane');

      const embed = (userId: number) => signature('ai.generate_embeddings', { userId, texts: ['lane'] }, { immutable: true });
      const high = await producer.apply(chain(signature('default.noop', {}), embed(1)), { priority: 'high' });
      const normal = await producer.apply(chain(signature('default.noop', {}), embed(2)));
      // The first steps ran on the default consumer; each next step waits on the paused ai queue, in its parent's lane.
      await waitFor(async () => (await waiting(cloud.queues.ai.highPriority.url)) === 1 && (await waiting(cloud.queues.ai.url)) === 1, 20_000, 'each chain\'s next step on its lane of ai');
      expect((await task(high.id)).status ?? 'PENDING').toBe('PENDING');
      expect((await task(normal.id)).status ?? 'PENDING').toBe('PENDING');
    } finally {
      await api('/api/queues/billing/purge', 'POST').catch(() => undefined);
      await control('billing', 'resume');
      await control('ai', 'resume');
    }
  }, 60_000);

  it("dead-letters a high-priority message to its lane's dead-letter queue, lists it there, and redrives it to the high lane", async () => {
    const id = `high-poison-${randomUUID().slice(0, 8)}`;
    // A payload default.noop's schema refuses: a failure on the first delivery.
    const body = JSON.stringify(newEnvelope('default.noop', { bogus: true } as never, { id }));
    await sqs.send(new SendMessageCommand({ QueueUrl: cloud.queues.default.highPriority.url, MessageBody: body }));
    await waitFor(async () => (await waiting(cloud.queues.default.highPriority.deadLetterUrl)) === 1, 20_000, 'the dead letter on the high lane\'s DLQ');
    expect(await waiting(cloud.queues.default.deadLetterUrl)).toBe(0);
    const letters = await api<{ taskId: string; lane: string }[]>('/api/dlq/default');
    expect(letters.filter((letter) => letter.taskId === id)).toEqual([expect.objectContaining({ lane: 'default-high' })]);

    await control('default', 'pause');
    try {
      const response = await fetch(`${cloud.dashboardUrl}/api/dlq/default/redrive`, { method: 'POST' });
      // Progress lines, then the outcome.
      const outcome = JSON.parse((await response.text()).trim().split('\n').at(-1)!) as { moved: number };
      expect(outcome.moved).toBe(1);
      expect(await waiting(cloud.queues.default.highPriority.url)).toBe(1);
      expect(await waiting(cloud.queues.default.url)).toBe(0);
    } finally {
      await control('default', 'resume');
    }
    await waitFor(async () => (await waiting(cloud.queues.default.highPriority.deadLetterUrl)) === 1, 20_000, 'the redriven letter to fail again, on its own lane');
  }, 60_000);
});
