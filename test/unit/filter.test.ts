import { describe, expect, it } from 'vitest';
import { UsageError, type Values } from '../../shared/cli/args.ts';
import { filtered, filterOf } from '../../shared/cli/filter.ts';
import { bulkStatuses, FilterError, parseFilter } from '../../shared/operations/index.ts';
import { tenantOf } from '../../shared/envelope/tenant.ts';

describe('the task filter', () => {
  it.each([
    [{}, {}],
    [{ status: 'FAILURE', search: 'needle' }, { status: 'FAILURE', search: 'needle' }],
    [{ since: '2026-11-27', until: '2026-11-27T10:00:00+01:00' }, { since: '2026-11-27T00:00:00.000Z', until: '2026-11-27T09:00:00.000Z' }],
    [{ task: 'app.tasks.ai_tasks.process_ai_request' }, { task: 'ai.process_ai_request' }],
    [{ task: 'app.tasks.unknown' }, { task: 'app.tasks.unknown' }],
    [{ tenant: 'acme' }, { tenant: 'acme' }],
    [{ tenant: 'Jürgen Müller' }, { tenant: tenantOf(undefined, {}, 'Jürgen Müller') }],
    [{ status: '', task: '' }, {}],
  ])('reads %j as %j', (input, filter) => {
    expect(parseFilter(input)).toEqual(filter);
  });

  it.each([
    [{ status: 'DONE' }, /^status takes PENDING, STARTED, RETRY, SUCCESS, FAILURE, REVOKED, not DONE$/],
    [{ since: 'yesterday' }, /^since takes an ISO 8601 time/],
    [{ until: '1' }, /^until takes an ISO 8601 time/],
    [{ since: '2026-11-27T09:00:00Z', until: '2026-11-27T09:00:00Z' }, /^since \(2026-11-27T09:00:00.000Z\) must be before until/],
    [{ since: '2026-11-28', until: '2026-11-27' }, /must be before until/],
    [{ search: 'a\u0000b' }, /^search must be printable text/],
    [{ tenant: 'x'.repeat(1001) }, /^tenant must be printable text of at most 1000 characters/],
  ])('refuses %j', (input, message) => {
    expect(() => parseFilter(input)).toThrow(FilterError);
    expect(() => parseFilter(input)).toThrow(message);
  });

  it('names the flags in the CLI, as usage errors', () => {
    const values = (v: Record<string, unknown>) => v as Values;
    expect(() => filterOf(values({ since: '2026-11-28', until: '2026-11-27' }))).toThrow(new UsageError('--since (2026-11-28T00:00:00.000Z) must be before --until (2026-11-27T00:00:00.000Z)'));
    expect(() => filterOf(values({ status: 'done' }))).toThrow(UsageError);
    expect(filterOf(values({ status: 'RETRY', limit: '5' }))).toEqual({ status: 'RETRY' });
    expect([filtered(values({ limit: '5', yes: true })), filtered(values({ tenant: 'acme' }))]).toEqual([false, true]);
  });

  it.each([
    ['retry', undefined, ['FAILURE']],
    ['retry', 'FAILURE', ['FAILURE']],
    ['revoke', undefined, ['PENDING', 'STARTED', 'RETRY']],
    ['revoke', 'STARTED', ['STARTED']],
    ['purge', undefined, ['SUCCESS', 'FAILURE', 'REVOKED']],
    ['purge', 'REVOKED', ['REVOKED']],
  ] as const)('%s under status %s takes %j', (action, status, statuses) => {
    expect(bulkStatuses(action, { ...(status ? { status } : {}) })).toEqual(statuses);
  });

  it.each([
    ['retry', 'REVOKED'],
    ['revoke', 'SUCCESS'],
    ['purge', 'STARTED'],
  ] as const)('refuses %s of %s tasks', (action, status) => {
    expect(() => bulkStatuses(action, { status })).toThrow(`${action} takes tasks in`);
  });
});
