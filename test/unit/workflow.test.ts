import { describe, expect, it } from 'vitest';
import { tasks, type TaskDefinition } from '../../shared/catalogue/index.ts';
import { newEnvelope } from '../../shared/envelope/envelope.ts';
import { chain, chord, group, signature, signatureByName } from '../../shared/producer/workflow.ts';
import { abandonedByFailure } from '../../shared/runtime/workflow-failure.ts';
import { afterSuccess, chordCallback, payloadWithResult, type TaskLookup } from '../../shared/runtime/workflow.ts';
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
});
