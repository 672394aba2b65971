import { describe, expect, it } from 'vitest';
import { tasks, type TaskDefinition } from '../../shared/catalogue/index.ts';
import { newEnvelope } from '../../shared/envelope/envelope.ts';
import { chain, chord, group, linkError, signature, signatureByName } from '../../shared/producer/workflow.ts';
import { abandonedByFailure, errbacksAfterFailure } from '../../shared/runtime/workflow-failure.ts';
import { afterSuccess, chordCallback, countedGroup, payloadWithResult, type TaskLookup } from '../../shared/runtime/workflow.ts';
import { flowProblem, starts } from '../../shared/envelope/flow.ts';
import { checkEnvelope } from '../../shared/envelope/wire.ts';
import type { Envelope, Signature } from '../../shared/envelope/envelope.ts';

const lookup = (name: string) => (tasks as Record<string, TaskDefinition>)[name];
/** The one message a task's success sends on, as the chain's next step. */
const nextInChain = (find: TaskLookup, envelope: Envelope, result: unknown) => afterSuccess(find, envelope, result)[0];

describe('workflow steps', () => {
  it("passes the previous result as Celery's partial arguments do", () => {
    const step = signatureByName('data.export_data', { format: 'csv' });
    expect(payloadWithResult(step, { userId: 7, format: 'json' })).toEqual({ userId: 7, format: 'csv' });
    expect(payloadWithResult({ ...step, resultAs: 'previous' }, 3)).toEqual({ format: 'csv', previous: 3 });
    expect(payloadWithResult({ ...step, immutable: true }, { userId: 7 })).toEqual({ format: 'csv' });
    expect(payloadWithResult(step, [1, 2])).toEqual({ format: 'csv' });
  });

  it('sends on a result over 256 KiB by reference, keeping the message with it inline for a consumer without a bucket', () => {
    const [first, second] = chain(signature('default.noop'), signature('default.noop')).steps as Signature[];
    const parent = newEnvelope('default.noop', {}, { id: first!.id, chain: [second!] });
    const echo = 'y'.repeat(300 * 1024);
    const next = nextInChain(lookup, parent, { echo })!;
    expect(next.envelope).toMatchObject({ id: second!.id, payload: {}, payloadRef: { key: expect.stringMatching(/^task-payloads\//), bytes: JSON.stringify({ echo }).length } });
    expect(next.body.length).toBeLessThan(2048);
    expect(JSON.parse(next.largePayload!.inline)).toMatchObject({ id: second!.id, payload: { echo } });
    expect(nextInChain(lookup, parent, { echo: 'small' })!.largePayload).toBeUndefined();
  });

  it('builds the next step with the rest of the chain, the parent and the root', () => {
    const [first, second, third] = chain(signature('default.noop'), signature('data.export_data', { userId: 1, format: 'csv' }, { immutable: true }), signature('default.noop')).steps as Signature[];
    const parent = newEnvelope('default.noop', {}, { id: first!.id, chain: [second!, third!] });
    const next = nextInChain(lookup, parent, { anything: true })!;
    expect(next.queue).toBe('data');
    expect(next.envelope).toMatchObject({ id: second!.id, task: 'data.export_data', payload: { userId: 1, format: 'csv' }, parentId: first!.id, rootId: first!.id, chain: [third] });
    expect(nextInChain(lookup, next.envelope, null)!.envelope.chain).toBeUndefined();
  });

  it('refuses a next step whose payload the result made invalid, or an unknown task', () => {
    const parent = newEnvelope('default.noop', {}, { chain: [signatureByName('data.export_data', { format: 'csv' })] });
    expect(() => nextInChain(lookup, parent, { userId: 'seven' })).toThrow(/does not fit data.export_data/);
    const unknown = newEnvelope('default.noop', {}, { chain: [signatureByName('default.nope', {})] });
    expect(() => nextInChain(lookup, unknown, null)).toThrow(/unknown task 'default.nope'/);
  });

  it("gives a chord's callback the results in `results`, or the field it names", () => {
    const callback = signatureByName('default.noop', {}, { resultAs: 'ignored' });
    const member = newEnvelope('default.noop', {}, { group: { id: 'g', index: 0, size: 2, callback: { ...callback, resultAs: undefined } } });
    expect(() => chordCallback(lookup, member, [1, 2])).toThrow(/does not fit default.noop/);
    const immutable = newEnvelope('default.noop', {}, { group: { id: 'g', index: 0, size: 2, callback: { ...callback, resultAs: undefined, immutable: true } } });
    expect(chordCallback(lookup, immutable, [1, 2])[0]!.envelope).toMatchObject({ id: callback.id, payload: {} });
  });

  it('records every task waiting on a failed member as FAILURE with its reason', () => {
    const steps = [signature('default.noop'), signature('default.noop')];
    const callback = signature('default.noop');
    const member = newEnvelope('default.noop', {}, { id: 'm-1', chain: steps, group: { id: 'g', index: 1, size: 3, callback } });
    expect(abandonedByFailure(lookup, member, 'PermanentError: no')).toEqual([
      { id: steps[0]!.id, name: 'default.noop', queue: 'default', status: 'FAILURE', error: 'ChainError: default.noop m-1 did not succeed: PermanentError: no', payload: {} },
      { id: steps[1]!.id, name: 'default.noop', queue: 'default', status: 'FAILURE', error: 'ChainError: default.noop m-1 did not succeed: PermanentError: no', payload: {} },
      { id: callback.id, name: 'default.noop', queue: 'default', status: 'FAILURE', error: 'ChordError: member 1 of 3, default.noop m-1 did not succeed: PermanentError: no', payload: {} },
    ]);
  });

  it('refuses empty workflows and contradictory signatures', () => {
    expect(() => chain()).toThrow(/at least one step/);
    expect(() => group([])).toThrow(/at least one member/);
    expect(() => signature('default.noop', {}, { resultAs: 'x', immutable: true })).toThrow(/either/);
    expect(chord([signature('default.noop')], signature('default.noop')).header.members).toHaveLength(1);
  });

  it('starts a group step with each member, the steps after it as the callback, and the outer group as parent', () => {
    const [a, b, c] = [signature('default.noop'), signature('default.noop'), signature('default.noop')];
    const outer = { id: 'outer', index: 1, size: 2 };
    const found = starts([{ group: 'inner', members: [[a, b], [c]] }, signature('default.noop', {}, { id: 'after' })], outer);
    expect(found).toEqual([
      { signature: a, chain: [b], group: { id: 'inner', index: 0, size: 2, callback: [expect.objectContaining({ id: 'after' })], parent: outer } },
      { signature: c, group: { id: 'inner', index: 1, size: 2, callback: [expect.objectContaining({ id: 'after' })], parent: outer } },
    ]);
  });

  it('passes a group membership down a member chain, and counts only the task that ends it', () => {
    const last = signature('default.noop');
    const member = newEnvelope('default.noop', {}, { chain: [last], group: { id: 'g', index: 0, size: 1, callback: signature('default.noop') } });
    expect(countedGroup(member)).toBeUndefined();
    const [next] = afterSuccess(lookup, member, {});
    expect(next!.envelope).toMatchObject({ id: last.id, group: { id: 'g', index: 0, size: 1 } });
    expect(countedGroup(next!.envelope)?.id).toBe('g');
  });

  it.each([
    ['a group ending a member flow', [{ group: 'g', members: [[signature('default.noop'), { group: 'h', members: [[signature('default.noop')]] }]] }], false, /a group ends a group member's flow/],
    ['a group ending a chain inside a group', [signature('default.noop'), { group: 'h', members: [[signature('default.noop')]] }], true, /a group ends/],
    ['a group ending a top-level chain', [signature('default.noop'), { group: 'h', members: [[signature('default.noop')]] }], false, undefined],
    ['a chord inside a member', [{ group: 'g', members: [[{ group: 'h', members: [[signature('default.noop')]] }, signature('default.noop')]] }], false, undefined],
  ] as const)('judges %s', (_name, steps, insideGroup, problem) => {
    const found = flowProblem(steps as never, insideGroup);
    if (problem) expect(found).toMatch(problem);
    else expect(found).toBeUndefined();
  });

  it('abandons the callbacks of every chord around a failed task, and sends their error callbacks with ids fixed by the failure', () => {
    const errback = signatureByName('default.noop', {}, { immutable: true });
    const inner = signature('default.noop', {}, { linkError: [errback] });
    const outer = signature('default.noop');
    const member = newEnvelope('default.noop', {}, { id: 'm', linkError: [errback], group: { id: 'in', index: 0, size: 2, callback: [inner], parent: { id: 'out', index: 1, size: 3, callback: [outer] } } });
    expect(abandonedByFailure(lookup, member, 'boom').map((row) => [row.id, row.error])).toEqual([
      [inner.id, 'ChordError: member 0 of 2, default.noop m did not succeed: boom'],
      [outer.id, 'ChordError: member 1 of 3, default.noop m did not succeed: boom'],
    ]);
    const first = errbacksAfterFailure(lookup, member, 'boom');
    expect(first.problems).toEqual([]);
    expect(first.followUps).toHaveLength(2);
    expect(new Set(first.followUps.map((f) => f.envelope.id)).size).toBe(2);
    expect(errbacksAfterFailure(lookup, member, 'boom again').followUps.map((f) => f.envelope.id)).toEqual(first.followUps.map((f) => f.envelope.id));
    const unknown = newEnvelope('default.noop', {}, { linkError: [signatureByName('default.nope', {})] });
    expect(errbacksAfterFailure(lookup, unknown, 'x').problems[0]).toMatch(/unknown task 'default.nope'/);
  });

  it("attaches an error callback as Celery's link_error does", () => {
    const errback = signature('default.noop');
    const [a, b] = [signature('default.noop'), signature('default.noop')];
    const linkedChain = linkError(chain(a, b), errback);
    expect(linkedChain.steps.every((step) => (step as Signature).linkError?.[0] === errback)).toBe(true);
    const linkedChord = linkError(chord([a], b), errback);
    expect((linkedChord.header.members[0]![0] as Signature).linkError).toBeUndefined();
    expect((linkedChord.callback[0] as Signature).linkError).toEqual([errback]);
  });

  it('refuses, at pick-up, an envelope whose workflow cannot run', () => {
    const bad = newEnvelope('default.noop', {}, { group: { id: 'g', index: 2, size: 2 } });
    expect(checkEnvelope(bad)).toEqual({ ok: false, reason: 'invalid envelope: group: index 2 must be below size 2' });
    const endsInGroup = newEnvelope('default.noop', {}, { group: { id: 'g', index: 0, size: 1 }, chain: [{ group: 'h', members: [[signature('default.noop')]] }] });
    expect(checkEnvelope(endsInGroup)).toMatchObject({ ok: false, reason: expect.stringMatching(/a group ends a group member's flow/) as unknown });
    expect(checkEnvelope(newEnvelope('default.noop', {}, { chain: [{ group: 'h', members: [[signature('default.noop')]] }] })).ok).toBe(true);
  });
});

