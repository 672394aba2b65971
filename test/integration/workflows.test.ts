import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { TaskFailedError } from '../../shared/producer/results.ts';
import { chain, chord, group, signatureByName } from '../../shared/producer/workflow.ts';
import { buildTaskMessage } from '../../shared/producer/send.ts';
import { databaseKind, taskRow } from '../support/database.ts';
import { emulatorSuite } from '../support/emulator-suite.ts';
import { publishedValidators } from '../support/contract.ts';
import { sendBodies } from '../support/consumer.ts';
import { testTaskDefinitions } from '../support/tasks.ts';
import { waitFor } from '../support/wait.ts';

const add = (payload: Record<string, unknown>, options: { id?: string; resultAs?: string } = {}) => signatureByName('default.test_add', payload, options);

describe(`workflows and control on the SQS emulator and ${databaseKind}`, () => {
  const suite = emulatorSuite();
  const { start, runs } = suite;

  it('runs a chain of 3, each step given the result before it', async () => {
    start();
    const result = await suite.producer.apply(chain(add({ x: 2, y: 2 }), add({ y: 4 }, { resultAs: 'x' }), add({ y: 8 }, { resultAs: 'x' })));
    expect(await result.get({ timeout: 20_000 })).toBe(16);
    const last = await result.info();
    const first = await taskRow(suite.db.database, last!.id);
    expect(first?.status).toBe('SUCCESS');
    const [parents] = await suite.db.database.rows<{ n: number }>(sql`select count(*)::int as n from task_results where name = 'default.test_add' and status = 'SUCCESS'`);
    expect(parents!.n).toBe(3);
  });

  it("fails a chain's remaining steps with the failing step's error, and never runs them", async () => {
    start();
    const fails = signatureByName('default.test_always_fails', {});
    const never = add({ x: 1, y: 1 });
    const result = await suite.producer.apply(chain(add({ x: 1, y: 1 }), fails, never));
    const error = await result.get({ timeout: 30_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskFailedError);
    expect((error as Error).message).toMatch(/ChainError: default\.test_always_fails .* did not succeed: retries exhausted after 3 attempts: TypeError: this task always fails/);
    expect(runs(never.id)).toBe(0);
  });

  it('runs a group of 20 in parallel and collects the results in member order', async () => {
    start();
    const members = Array.from({ length: 20 }, (_, i) => add({ x: i, y: i }));
    const result = await suite.producer.apply(group(members));
    expect(await result.get({ timeout: 30_000 })).toEqual(members.map((_, i) => 2 * i));
    const rows = await suite.db.database.rows<{ group_index: number }>(sql`select group_index from task_results where group_id = ${result.id} order by group_index`);
    expect(rows.map((row) => row.group_index)).toEqual(members.map((_, i) => i));
  });

  it('fires a chord of 50 exactly once, although every member is delivered twice and some three times', async () => {
    const members = Array.from({ length: 50 }, (_, i) => add({ x: i, y: 1 }));
    const callback = signatureByName('default.test_sum', { label: 'total' });
    const header = group(members);
    // Every member message twice, as SQS's at-least-once delivery may.
    const messages = members.map((member, index) =>
      buildTaskMessage(member.task, member.payload, { id: member.id }, new Date(), () => testTaskDefinitions.add, { group: { id: header.id, index, size: 50, callback } }),
    );
    const bodies = messages.map((message) => message.body);
    await sendBodies(suite.emulator.sqs, suite.queue.url, [...bodies, ...bodies]);
    start();
    start();
    const result = suite.producer.result(callback.id);
    expect(await result.get({ timeout: 60_000 })).toBe(members.reduce((total, _, i) => total + i + 1, 0));

    // And again once everything has finished: each duplicate re-sends the callback, which never runs again.
    await sendBodies(suite.emulator.sqs, suite.queue.url, bodies.slice(0, 10));
    await waitFor(async () => {
      const [row] = await suite.db.database.rows<{ n: number }>(sql`select count(*)::int as n from task_results where group_id = ${header.id} and status = 'SUCCESS'`);
      return row!.n === 50;
    });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(runs(callback.id)).toBe(1);
    expect(members.every((member) => runs(member.id) === 1)).toBe(true);
    const [counter] = await suite.db.database.rows<{ succeeded: number; size: number }>(sql`select succeeded, size from chord_counters where group_id = ${header.id}`);
    expect(counter).toEqual({ succeeded: 50, size: 50 });
  });

  it("fails a chord's callback with a failing member's error, and never runs it", async () => {
    start();
    const callback = signatureByName('default.test_sum', {});
    const result = await suite.producer.apply(chord([add({ x: 1, y: 1 }), signatureByName('default.test_always_fails', {}), add({ x: 2, y: 2 })], callback));
    const error = await result.get({ timeout: 30_000 }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/ChordError: member 1 of 3, default\.test_always_fails .* did not succeed/);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(runs(callback.id)).toBe(0);
  });

  it('revokes a task before pick-up: it never runs and ends REVOKED', async () => {
    const pending = await suite.producer.sendByName('default.test_record', { n: 1 }, { countdown: 2 });
    expect(await pending.revoke('not needed')).toBe('REVOKED');
    start();
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    const row = await taskRow(suite.db.database, pending.id);
    expect(row).toMatchObject({ status: 'REVOKED', error: 'not needed', name: 'default.test_record' });
    expect(runs(pending.id)).toBe(0);
  });

  it('revokes a running task: its signal fires at the next check and it stops', async () => {
    start({ revocationCheckMs: 200 });
    const running = await suite.producer.sendByName('default.test_sleep', { ms: 10_000 });
    await waitFor(() => runs(running.id) === 1, 20_000, 'the task to start');
    const revokedAt = Date.now();
    await running.revoke('stop now');
    const task = await running.wait({ timeout: 10_000 });
    expect(task).toMatchObject({ status: 'REVOKED', error: 'stop now' });
    await waitFor(async () => (await queueDepth()) === 0, 10_000, 'the message to be acknowledged');
    expect(Date.now() - revokedAt).toBeLessThan(5_000);
    expect(suite.journal.get(running.id)![0]!.end).toBeUndefined();
  });

  it('aborts a task at its soft time limit, and records SoftTimeLimitExceeded', async () => {
    start();
    const slow = await suite.producer.sendByName('default.test_sleep', { ms: 2_600 });
    const task = await slow.wait({ timeout: 20_000 });
    expect(task.status).toBe('FAILURE');
    expect(task.error).toMatch(/SoftTimeLimitExceeded: soft time limit of 2 s exceeded/);
    expect(suite.journal.get(slow.id)![0]!.end).toBeUndefined();
  });

  it('retries after the countdown a task asks for', async () => {
    start();
    const task = await suite.producer.sendByName('default.test_retry_later', { countdown: 3 });
    expect(await task.get({ timeout: 20_000 })).toEqual({ attempt: 2 });
    const [first, second] = suite.journal.get(task.id)!;
    expect(second!.start - first!.end!).toBeGreaterThanOrEqual(2_900);
    const detail = await task.info();
    expect(detail!.attemptHistory.map((a) => [a.status, a.error])).toEqual([['RETRY', 'RetryLaterError: not yet'], ['SUCCESS', null]]);
  });

  it('delays a task by its countdown', async () => {
    start();
    const sentAt = Date.now();
    const task = await suite.producer.sendByName('default.test_record', { n: 5 }, { countdown: 5 });
    expect(await task.get({ timeout: 20_000 })).toEqual({ n: 5 });
    expect(suite.journal.get(task.id)![0]!.start - sentAt).toBeGreaterThanOrEqual(4_900);
  });

  it('revokes an expired task at pick-up without running it', async () => {
    start();
    const task = await suite.producer.sendByName('default.test_record', { n: 1 }, { countdown: 3, expires: new Date(Date.now() + 1_000) });
    const detail = await task.wait({ timeout: 20_000 });
    expect(detail).toMatchObject({ status: 'REVOKED', error: 'expired' });
    expect(runs(task.id)).toBe(0);
  });

  it('holds a rate limit of 5/s across two consumers, without spending attempts', async () => {
    start();
    start();
    const results = await suite.producer.sendBatch(Array.from({ length: 20 }, (_, n) => ({ task: 'default.test_limited', payload: { n } })));
    await Promise.all(results.map((result) => result.get({ timeout: 60_000 })));
    // When each was claimed, which only a token allows: the run itself may start later on a busy machine.
    const claimed = await suite.db.database.rows<{ ms: number }>(sql`
      select (extract(epoch from started_at) * 1000)::float8 as ms from task_results where id in (${sql.join(results.map((result) => sql`${result.id}`), sql`, `)})`);
    const starts = claimed.map((row) => Number(row.ms)).sort((a, b) => a - b);
    expect(starts).toHaveLength(20);
    // A bucket of 5 that refills 5 a second: any window of t seconds holds at most 5 + 5t starts.
    for (let i = 0; i < starts.length; i++) {
      for (let j = i; j < starts.length; j++) {
        expect(j - i + 1).toBeLessThanOrEqual(5 + 5 * ((starts[j]! - starts[i]!) / 1000) + 1);
      }
    }
    expect(starts.at(-1)! - starts[0]!).toBeGreaterThanOrEqual(2_500);
    const [attempts] = await suite.db.database.rows<{ max: number }>(sql`select max(attempts)::int as max from task_results where name = 'default.test_limited'`);
    expect(attempts!.max).toBe(1);
  });

  it('accepts a hand-written envelope with a chain, as another service would send it', async () => {
    start();
    const body = `{"v":1,"id":"hand-written-1","task":"default.test_add","payload":{"x":1,"y":2},"createdAt":"2026-11-27T09:00:00+01:00",
      "chain":[{"id":"hand-written-2","task":"default.test_add","payload":{"y":10},"resultAs":"x"}]}`;
    const { envelope: validEnvelope } = await publishedValidators();
    expect(validEnvelope(JSON.parse(body)), JSON.stringify(validEnvelope.errors)).toBe(true);
    await sendBodies(suite.emulator.sqs, suite.queue.url, [body]);
    expect(await suite.producer.result('hand-written-2').get({ timeout: 20_000 })).toBe(13);
  });

  it('carries characters beyond U+FFFF (emoji) in a payload, as SQS does', async () => {
    start();
    const label = 'cleaned 🧹 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀';
    const task = await suite.producer.sendByName('default.test_sum', { results: [1, 2], label });
    expect(await task.get({ timeout: 20_000 })).toBe(3);
    expect((await task.info())!.payload).toEqual({ results: [1, 2], label });
  });

  it('records results and errors holding NUL or a lone surrogate, without failing the batch', async () => {
    start();
    const [returns, throws, plain] = await suite.producer.sendBatch([
      { task: 'default.test_odd_output', payload: { fail: false } },
      { task: 'default.test_odd_output', payload: { fail: true } },
      { task: 'default.test_record', payload: { n: 1 } },
    ]);
    expect(await returns!.get({ timeout: 20_000 })).toEqual({ text: 'a\uFFFDb', lone: '\uFFFD', 'key\uFFFD': 1 });
    expect((await throws!.wait({ timeout: 20_000 })).error).toBe('retries exhausted after 1 attempts: Error: bad \uFFFD byte and \uFFFD half');
    expect(await plain!.get({ timeout: 20_000 })).toEqual({ n: 1 });
    expect(runs(returns!.id) + runs(throws!.id) + runs(plain!.id)).toBe(3);
  });

  async function queueDepth() {
    const { GetQueueAttributesCommand } = await import('@aws-sdk/client-sqs');
    const response = await suite.emulator.sqs.send(new GetQueueAttributesCommand({ QueueUrl: suite.queue.url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    return Number(response.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(response.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  }
});
