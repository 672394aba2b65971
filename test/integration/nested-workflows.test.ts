import { sql } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import { TaskFailedError } from '../../shared/producer/results.ts';
import { chain, chord, flowOf, group, linkError, signatureByName, type Part } from '../../shared/producer/workflow.ts';
import { isGroupStep, tasksOf, type Step } from '../../shared/envelope/flow.ts';
import { databaseKind } from '../support/database.ts';
import { duplicatingSqs } from '../support/duplicating-sqs.ts';
import { emulatorSuite } from '../support/emulator-suite.ts';
import { waitFor } from '../support/wait.ts';


const add = (payload: Record<string, unknown>) => signatureByName('default.test_add', payload, 'x' in payload ? {} : { resultAs: 'x' });
const sum = (label?: string) => signatureByName('default.test_sum', label ? { label } : {});
const fails = () => signatureByName('default.test_always_fails', {}, { immutable: true });
const onError = (label: string) => signatureByName('default.test_on_error', { label });
const idOf = (step: Step) => (isGroupStep(step) ? step.group : step.id);

/**
 * Nested workflows with Celery's semantics, every message delivered twice: the producer
 * sends each twice, and the consumers send every follow-up (next steps, callbacks, error
 * callbacks) twice. Each task still runs once.
 */
describe(`nested workflows, every message delivered twice, on ${databaseKind}`, () => {
  // The producer sends each message twice, and the consumers send every follow-up twice.
  const suite = emulatorSuite({ sqs: duplicatingSqs });
  beforeEach(() => {
    for (let i = 0; i < 2; i++) suite.start();
  });
  const { runs } = suite;
  /** Every task of the workflow ran exactly once, or as often as `expected` says (a failing task: its three attempts). */
  async function ranOnce(workflow: Part, expected: Record<string, number> = {}) {
    // Late copies of the follow-ups are still arriving: give them time to be seen and refused.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const tasks = tasksOf(flowOf(workflow));
    for (const task of tasks) expect(runs(task.id), `${task.task} ${task.id}`).toBe(expected[task.id] ?? 1);
    // And the copies did arrive: at least two deliveries of every message that was sent.
    const delivered = suite.consumers.flatMap((consumer) => consumer.invocations).reduce((total, invocation) => total + invocation.records, 0);
    const sent = tasks.filter((task) => expected[task.id] !== 0).length;
    expect(delivered).toBeGreaterThanOrEqual(2 * sent);
  }

  it('turns a group inside a chain into a chord: the steps after it get the results, once', async () => {
    const workflow = chain(add({ x: 1, y: 1 }), group([add({ y: 10 }), add({ y: 20 })]), sum(), add({ y: 100 }));
    const result = await suite.producer.apply(workflow);
    // 2 → [12, 22] → 34 → 134
    expect(await result.get({ timeout: 40_000 })).toBe(134);
    await ranOnce(workflow);
  });

  it('runs a group of chains, each member giving its last result', async () => {
    const workflow = group([chain(add({ x: 1, y: 1 }), add({ y: 1 })), chain(add({ x: 5, y: 5 }), add({ y: 5 }), add({ y: 5 }))]);
    const result = await suite.producer.apply(workflow);
    expect(await result.get({ timeout: 40_000 })).toEqual([3, 20]);
    const members = await suite.db.database.rows<{ group_index: number; result: unknown }>(sql`select group_index, result from task_results where group_id = ${workflow.id} order by group_index`);
    expect(members).toEqual([{ group_index: 0, result: 3 }, { group_index: 1, result: 20 }]);
    await ranOnce(workflow);
  });

  it('runs a chord whose callback is a chain, and a chord of chains', async () => {
    const workflow = chord([chain(add({ x: 1, y: 2 }), add({ y: 3 })), add({ x: 10, y: 0 })], chain(sum('total'), add({ y: 1 }), add({ y: 1 })));
    const result = await suite.producer.apply(workflow);
    // [6, 10] → 16 → 17 → 18
    expect(await result.get({ timeout: 40_000 })).toBe(18);
    const [counter] = await suite.db.database.rows<{ succeeded: number; size: number }>(sql`select succeeded, size from chord_counters where group_id = ${workflow.header.id}`);
    expect(counter).toEqual({ succeeded: 2, size: 2 });
    await ranOnce(workflow);
  });

  it('runs a chord inside a chain, and a chord inside a chord', async () => {
    const inner = chord([add({ y: 1 }), add({ y: 2 })], sum('inner'));
    const outer = chord([chain(add({ x: 1, y: 0 }), inner), add({ x: 100, y: 0 })], sum('outer'));
    const workflow = chain(add({ x: 0, y: 1 }), chord([add({ y: 1 }), add({ y: 2 })], sum()), add({ y: 1000 }));
    const [nested, chained] = await Promise.all([suite.producer.apply(outer), suite.producer.apply(workflow)]);
    // inner: 1 → [2, 3] → 5; outer: [5, 100] → 105
    expect(await nested.get({ timeout: 60_000 })).toBe(105);
    // 1 → [2, 3] → 5 → 1005
    expect(await chained.get({ timeout: 60_000 })).toBe(1005);
    await ranOnce(outer);
    await ranOnce(workflow);
  });

  it("runs a chain's error callback once, given the step that failed; the steps after it never run", async () => {
    const failing = fails();
    const after = add({ y: 1 });
    const workflow = linkError(chain(add({ x: 1, y: 1 }), failing, after), onError('chain'));
    const result = await suite.producer.apply(workflow);
    expect(await result.get({ timeout: 40_000 }).catch((error: unknown) => error)).toBeInstanceOf(TaskFailedError);
    const errbacks = await waitForErrbacks(1);
    expect(errbacks[0]).toMatchObject({ status: 'SUCCESS', payload: { label: 'chain' }, result: { taskId: failing.id, task: 'default.test_always_fails' } });
    expect((errbacks[0]!.result as { error: string }).error).toMatch(/retries exhausted after 3 attempts: TypeError: this task always fails/);
    await ranOnce(workflow, { [failing.id]: 3, [after.id]: 0 });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await waitForErrbacks(1)).toHaveLength(1);
  });

  it("runs a chord's error callback once with the ChordError when a member fails, at every level", async () => {
    const member = fails();
    const inner = linkError(chord([add({ x: 1, y: 1 }), member], sum('inner')), onError('inner'));
    const outer = linkError(chord([inner, add({ x: 1, y: 1 })], sum('outer')), onError('outer'));
    const result = await suite.producer.apply(outer);
    const error = await result.get({ timeout: 40_000 }).catch((thrown: unknown) => thrown);
    expect((error as Error).message).toMatch(/ChordError: member 0 of 2, default\.test_always_fails/);
    const errbacks = new Map((await waitForErrbacks(2)).map((row) => [(row.payload as { label: string }).label, row.result as { taskId: string; error: string }]));
    expect(errbacks.get('inner')).toMatchObject({ taskId: idOf(inner.callback[0]!), error: expect.stringMatching(/^ChordError: member 1 of 2, default\.test_always_fails/) as unknown });
    expect(errbacks.get('outer')).toMatchObject({ taskId: idOf(outer.callback[0]!), error: expect.stringMatching(/^ChordError: member 0 of 2, default\.test_always_fails/) as unknown });
    await ranOnce(outer, { [member.id]: 3, [idOf(inner.callback[0]!)]: 0, [idOf(outer.callback[0]!)]: 0 });
  });

  it('refuses shapes Celery could not give one result for, when the workflow is built', () => {
    expect(() => group([chain(add({ x: 1, y: 1 }), group([add({ y: 1 })]))])).toThrow(/a group ends a group member's flow/);
    expect(() => chord([add({ x: 1, y: 1 })], chain(sum(), group([add({ y: 1 })])))).not.toThrow();
  });

  async function waitForErrbacks(count: number) {
    let rows: { id: string; status: string; payload: unknown; result: unknown }[] = [];
    await waitFor(async () => {
      rows = await suite.db.database.rows(sql`select id, status, payload, result from task_results where name = 'default.test_on_error' and status = 'SUCCESS'`);
      return rows.length >= count;
    }, 40_000, `${count} error callback(s) to succeed`);
    return rows;
  }
});
