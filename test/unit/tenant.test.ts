import { describe, expect, it } from 'vitest';
import { tasks, type TaskDefinition } from '../../shared/catalogue/index.ts';
import { newEnvelope } from '../../shared/envelope/envelope.ts';
import { messageGroup, tenantOf } from '../../shared/envelope/tenant.ts';
import { checkEnvelope } from '../../shared/envelope/wire.ts';
import { fairOrder } from '../../shared/local/fauxqs-fair-queues.ts';
import { buildTaskMessage } from '../../shared/producer/send.ts';
import { chain, signature } from '../../shared/producer/workflow.ts';
import { afterSuccess } from '../../shared/runtime/workflow.ts';

const lookup = (name: string) => (tasks as Record<string, TaskDefinition>)[name];

describe('tenants', () => {
  it.each([
    ['the field the catalogue names', 'userId', { userId: 42 }, undefined, '42'],
    ['a string field as it is', 'userId', { userId: 'org:7/user:42' }, undefined, 'org:7/user:42'],
    ['what the producer names, over the field', 'userId', { userId: 42 }, 'acme', 'acme'],
    ['no field, no tenant', undefined, { userId: 42 }, undefined, undefined],
    ['a field that is absent', 'userId', {}, undefined, undefined],
    ['a field that is not a scalar', 'userId', { userId: { id: 1 } }, undefined, undefined],
    ['an empty value', 'userId', { userId: '' }, undefined, undefined],
  ])('takes %s', (_, field, payload, given, expected) => {
    expect(tenantOf(field, payload, given)).toBe(expected);
  });

  it("sends a value SQS would refuse as a group id as its hash, the same every time", () => {
    for (const value of ['has space', 'ünïcode', 'x'.repeat(129)]) {
      const tenant = tenantOf('userId', { userId: value })!;
      expect(tenant).toMatch(/^sha256:[0-9a-f]{40}$/);
      expect(tenantOf(undefined, {}, value)).toBe(tenant);
    }
    expect(tenantOf(undefined, {}, 'a b')).not.toBe(tenantOf(undefined, {}, 'a c'));
  });

  it("puts the catalogue's tenant, or the producer's, in the envelope and in the message's group", () => {
    const ai = buildTaskMessage('ai.process_ai_request', { userId: 7, prompt: 'hi' });
    expect(ai.envelope.tenant).toBe('7');
    expect(messageGroup(ai.envelope)).toEqual({ MessageGroupId: '7' });
    expect(buildTaskMessage('default.noop', {}).envelope.tenant).toBeUndefined();
    expect(messageGroup(buildTaskMessage('default.noop', {}).envelope)).toEqual({});
    expect(buildTaskMessage('default.noop', {}, { tenant: 'acme' }).envelope.tenant).toBe('acme');
    expect(checkEnvelope({ ...newEnvelope('default.noop', {}), tenant: 'has space' })).toMatchObject({ ok: false });
  });

  it("keeps a workflow in its tenant's group: a step runs for its own payload's tenant, else its parent's", () => {
    const [first, ...rest] = chain(signature('default.noop'), signature('default.noop'), signature('data.export_data', { userId: 9, format: 'csv' }, { immutable: true })).steps;
    const parent = newEnvelope('default.noop', {}, { id: (first as { id: string }).id, chain: rest, tenant: 'acme' });
    const second = afterSuccess(lookup, parent, null)[0]!;
    expect(second.envelope.tenant).toBe('acme');
    expect(afterSuccess(lookup, second.envelope, null)[0]!.envelope.tenant).toBe('9');
  });
});

describe("a fair queue's delivery order", () => {
  const message = (group: string | undefined, n: number) => ({ messageId: `${group ?? 'none'}-${n}`, ...(group ? { messageGroupId: group } : {}) });
  const many = (group: string | undefined, count: number) => Array.from({ length: count }, (_, n) => message(group, n));
  const ids = (order: { messageId: string }[] | undefined, count: number) => order?.slice(0, count).map((m) => m.messageId);

  it('leaves the order alone while no tenant is noisy', () => {
    // 29 in flight is below SQS's 30; 40 of 400 is exactly 10 %, not above it.
    expect(fairOrder([...many('a', 5), ...many('b', 2)], many('a', 29), 10)).toBeUndefined();
    expect(fairOrder([...many('a', 5), ...many('b', 2)], [...many('a', 40), ...many(undefined, 360)], 10)).toBeUndefined();
  });

  it("puts a quiet tenant's messages, and those without a group, before a noisy tenant's", () => {
    const ready = [...many('a', 20), message('b', 0), message(undefined, 0), message('b', 1)];
    expect(ids(fairOrder(ready, many('a', 30), 5), 5)).toEqual(['b-0', 'none-0', 'b-1', 'a-0', 'a-1']);
    // The rest keep their order behind the picks.
    expect(fairOrder(ready, many('a', 30), 5)!.slice(5).map((m) => m.messageId)).toEqual(many('a', 20).slice(2).map((m) => m.messageId));
  });

  it('serves noisy tenants fewest in flight first', () => {
    const ready = [...many('a', 10), ...many('c', 10)];
    expect(ids(fairOrder(ready, [...many('a', 40), ...many('c', 32)], 10), 10)).toEqual(['c-0', 'c-1', 'c-2', 'c-3', 'c-4', 'c-5', 'c-6', 'c-7', 'a-0', 'c-8']);
  });
});
