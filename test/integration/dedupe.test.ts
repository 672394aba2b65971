import { describe, expect, it } from 'vitest';
import { newEnvelope } from '../../shared/envelope/envelope.ts';
import { sendBodies } from '../support/consumer.ts';
import { databaseKind, taskRow } from '../support/database.ts';
import { duplicatingSqs } from '../support/duplicating-sqs.ts';
import { emulatorSuite } from '../support/emulator-suite.ts';
import { waitFor } from '../support/wait.ts';

const finished = (suite: ReturnType<typeof emulatorSuite>, id: string) =>
  waitFor(async () => {
    const row = await taskRow(suite.db.database, id);
    return row && ['SUCCESS', 'FAILURE', 'REVOKED'].includes(row.status) ? row : undefined;
  }, 30_000, `${id} to finish`);

/** `unique` and `debounce`: one run however often a task is asked for, under concurrent producers and duplicate deliveries. */
describe(`unique and debounced tasks on the SQS emulator and ${databaseKind}, every message delivered twice`, () => {
  const suite = emulatorSuite({ sqs: duplicatingSqs });

  it('folds sends of a unique task with one key into the first, for concurrent producers, and runs it once', async () => {
    suite.start();
    suite.start();
    const sends = await Promise.all(Array.from({ length: 6 }, (_, n) => suite.producer.sendByName('default.test_unique', { account: 'a', note: `send ${n}` })));
    const other = await suite.producer.sendByName('default.test_unique', { account: 'b' });
    expect(new Set(sends.map((handle) => handle.id)).size).toBe(1);
    expect(await sends[0]!.get({ timeout: 30_000 })).toEqual({ account: 'a' });
    expect(await other.get({ timeout: 30_000 })).toEqual({ account: 'b' });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(suite.runs(sends[0]!.id)).toBe(1);
    expect(suite.runs(other.id)).toBe(1);
  });

  it('folds a unique task sent by hand under another id: it ends REVOKED, naming the first', async () => {
    suite.start();
    const first = newEnvelope('default.test_unique', { account: 'c' });
    const second = newEnvelope('default.test_unique', { account: 'c', note: 'the same account' });
    await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(first)]);
    expect(await finished(suite, first.id)).toMatchObject({ status: 'SUCCESS' });
    await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(second)]);
    expect(await finished(suite, second.id)).toMatchObject({ status: 'REVOKED', error: `unique: the same request as ${first.id}` });
    expect(suite.runs(second.id)).toBe(0);
  });

  it('runs only the last of debounced sends once its quiet window passes; the earlier ones end REVOKED, debounced', async () => {
    suite.start();
    const sent: string[] = [];
    for (let n = 0; n < 3; n++) {
      sent.push((await suite.producer.sendByName('default.test_debounced', { account: 'd', n })).id);
      await new Promise((resolve) => setTimeout(resolve, 400));
    }
    const last = sent.at(-1)!;
    const lastSentAt = Date.now() - 400;
    expect(await finished(suite, last)).toMatchObject({ status: 'SUCCESS' });
    expect(await suite.producer.result(last).get()).toEqual({ n: 2 });
    // It ran after its 2 s window, not before.
    expect(suite.journal.get(last)![0]!.start - lastSentAt).toBeGreaterThanOrEqual(1_900);
    for (const id of sent.slice(0, -1)) expect(await finished(suite, id)).toMatchObject({ status: 'REVOKED', error: 'debounced' });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(sent.map((id) => suite.runs(id))).toEqual([0, 0, 1]);
  });

  it('debounces sends made by hand, with no producer to record them: the first one seen waits a window for later ones', async () => {
    suite.start();
    const sent = Array.from({ length: 3 }, (_, n) => newEnvelope('default.test_debounced', { account: 'e', n }, { createdAt: new Date(Date.now() + n * 10).toISOString() }));
    await sendBodies(suite.emulator.sqs, suite.queue.url, sent.map((envelope) => JSON.stringify(envelope)));
    expect(await finished(suite, sent[2]!.id)).toMatchObject({ status: 'SUCCESS' });
    for (const envelope of sent.slice(0, 2)) expect(await finished(suite, envelope.id)).toMatchObject({ status: 'REVOKED', error: 'debounced' });
    expect(sent.map((envelope) => suite.runs(envelope.id))).toEqual([0, 0, 1]);
  });
});
