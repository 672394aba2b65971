import { describe, expect, it } from 'vitest';
import { catalogueErrors, queues, schedules, tasks } from '../../shared/catalogue/index.ts';
import { dedupeKeyOf, keyRule } from '../../shared/envelope/dedupe-key.ts';
import { debounceVerdict } from '../../shared/runtime/batch/dedupe.ts';

describe('the keys of unique and debounced tasks', () => {
  it('are the same for equal payloads, whatever the order of their fields, and differ otherwise', () => {
    const key = dedupeKeyOf('data.export_data', { userId: 7, format: 'csv' }, undefined);
    expect(dedupeKeyOf('data.export_data', { format: 'csv', userId: 7 }, undefined)).toBe(key);
    expect(dedupeKeyOf('data.export_data', { userId: 7, format: 'json' }, undefined)).not.toBe(key);
    expect(dedupeKeyOf('ai.process_ai_request', { userId: 7, format: 'csv' }, undefined)).not.toBe(key);
  });

  it("take only the key fields when the catalogue names them, and the producer's key over all", () => {
    expect(dedupeKeyOf('t', { account: 'a', note: 'x' }, ['account'])).toBe(dedupeKeyOf('t', { account: 'a', note: 'y' }, ['account']));
    expect(dedupeKeyOf('t', { account: 'a' }, ['account'])).not.toBe(dedupeKeyOf('t', { account: 'b' }, ['account']));
    expect(dedupeKeyOf('t', { account: 'a' }, ['account'], 'order-42')).toBe('t:order-42');
  });

  it("reads the catalogue's rule", () => {
    expect(keyRule({ ...tasks['default.noop'], unique: '10m' })).toEqual({ mode: 'unique', seconds: 600 });
    expect(keyRule({ ...tasks['default.noop'], debounce: '30s' })).toEqual({ mode: 'debounce', seconds: 30 });
    expect(keyRule(tasks['default.noop'])).toBeUndefined();
  });

  it('refuses a catalogue with both rules on a task, or a window that is not a duration', () => {
    const errors = catalogueErrors({ queues, schedules, tasks: { ...tasks, 'default.noop': { ...tasks['default.noop'], unique: '10m', debounce: 'soon' } } });
    expect(errors).toEqual(expect.arrayContaining([expect.stringMatching(/debounce must be a duration/), expect.stringMatching(/unique and debounce cannot both apply/)]));
  });
});

describe('debounceVerdict', () => {
  const now = Date.parse('2026-12-04T12:00:00Z');
  it.each([
    ['a later send holds the key: superseded', { taskId: 'later', sentAt: now - 5_000, firstSeen: false }, { kind: 'debounced', by: 'later' }],
    ['the latest, its window passed: runs', { taskId: 'me', sentAt: now - 30_000, firstSeen: false }, { kind: 'run' }],
    ['the latest, 10 s of its window left: waits them', { taskId: 'me', sentAt: now - 20_000, firstSeen: false }, { kind: 'wait', seconds: 10 }],
    ['first seen here, however old: waits a whole window for later sends', { taskId: 'me', sentAt: now - 60_000, firstSeen: true }, { kind: 'wait', seconds: 30 }],
  ])('%s', (_case, latest, expected) => {
    expect(debounceVerdict('me', latest, 30, now)).toEqual(expected);
  });
});
