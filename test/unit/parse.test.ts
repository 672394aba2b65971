import { describe, expect, it } from 'vitest';
import { tasks } from '../../shared/catalogue/index.ts';
import { newEnvelope } from '../../shared/envelope/envelope.ts';
import { parseMessage, TaskDirectory } from '../../shared/runtime/parse.ts';
import { implementations } from '../../shared/tasks/index.ts';
import { sqsRecordFactory } from '../support/factories.ts';

const directory = new TaskDirectory('default', implementations, Object.values(tasks));
const parse = (body: unknown) => parseMessage(sqsRecordFactory(typeof body === 'string' ? body : JSON.stringify(body)), directory);

describe('parseMessage', () => {
  it('returns the typed payload of a valid message, with schema defaults applied', () => {
    const envelope = newEnvelope('default.cleanup_task_results', {});
    const parsed = parse(envelope);
    expect(parsed).toMatchObject({ ok: true, envelope, payload: { olderThanDays: 30 } });
  });

  it('resolves Celery aliases', () => {
    const parsed = parse(newEnvelope('app.tasks.maintenance_tasks.cleanup_task_results', { olderThanDays: 7 }));
    expect(parsed.ok && parsed.implementation.definition.name).toBe('default.cleanup_task_results');
  });

  it('keeps the SQS message id when the body is not JSON', () => {
    const record = sqsRecordFactory('not json');
    const parsed = parseMessage(record, directory);
    expect(parsed).toMatchObject({ ok: false, id: record.messageId, task: 'unknown' });
    expect(!parsed.ok && parsed.reason).toMatch(/^invalid JSON: /);
  });

  it.each([
    ['a missing field', { v: 1, task: 'default.noop', payload: {}, createdAt: new Date().toISOString() }, /invalid envelope: id:/],
    ['an unknown field', { ...newEnvelope('default.noop', {}), extra: true }, /invalid envelope: .*extra/],
    ['a wrong version', { ...newEnvelope('default.noop', {}), v: 2 }, /invalid envelope: v:/],
    ['an array payload', { ...newEnvelope('default.noop', {}), payload: [] }, /invalid envelope: payload:/],
    ['an unknown task', newEnvelope('default.nope', {}), /^unknown task 'default.nope'$/],
    ['a task of another queue', newEnvelope('billing.process_refund', { paymentIntentId: 'pi', reason: 'duplicate' }), /belongs to queue 'billing', not 'default'/],
    ['a payload of the wrong type', newEnvelope('default.cleanup_task_results', { olderThanDays: 'soon' }), /invalid payload for default.cleanup_task_results: olderThanDays:/],
    ['a payload with extra keys', newEnvelope('default.noop', { echo: 1, more: 2 }), /invalid payload for default.noop/],
  ])('rejects %s with its reason', (_case, body, reason) => {
    const parsed = parse(body);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toMatch(reason);
  });

  it('records a rejected message under its envelope id when it has a usable one', () => {
    const envelope = newEnvelope('default.nope', { a: 1 });
    expect(parse(envelope)).toMatchObject({ ok: false, id: envelope.id, task: 'default.nope', payload: { a: 1 } });
  });

  it('names a catalogue task that has no code on this consumer', () => {
    const bare = new TaskDirectory('ai', [], Object.values(tasks));
    const parsed = parseMessage(sqsRecordFactory(JSON.stringify(newEnvelope('ai.process_ai_request', { userId: 1, prompt: 'hi' }))), bare);
    expect(!parsed.ok && parsed.reason).toBe("no code is deployed for task 'ai.process_ai_request' on queue 'ai'");
  });

  it.each([
    ['plain', '{"v":1,"id":"a1","task":"default.noop","payload":{"echo":{"__proto__":{"polluted":true}}},"createdAt":"2026-11-27T10:00:00Z"}'],
    ['escaped', '{"v":1,"id":"a1","task":"default.noop","payload":{"echo":{"\\u005f_proto__":{"polluted":true}}},"createdAt":"2026-11-27T10:00:00Z"}'],
  ])('rejects a %s __proto__ key before it can reach a typed object', (_kind, body) => {
    const parsed = parse(body);
    expect(!parsed.ok && parsed.reason).toBe('invalid JSON: the key "__proto__" is not allowed');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['JSON nested 10,000 levels deep', `{"v":1,"id":"a1","task":"default.noop","payload":{"echo":${'['.repeat(10_000)}${']'.repeat(10_000)}},"createdAt":"2026-11-27T10:00:00Z"}`, 'invalid JSON: nested deeper than 256 levels'],
    ['a NUL character', '{"v":1,"id":"a1","task":"default.noop","payload":{"echo":"a\\u0000b"},"createdAt":"2026-11-27T10:00:00Z"}', 'invalid JSON: a string holds a NUL character (\\u0000), which PostgreSQL cannot store'],
    ['a NUL character in a key', '{"v":1,"id":"a1","task":"default.noop","payload":{"echo":{"a\\u0000":1}},"createdAt":"2026-11-27T10:00:00Z"}', 'invalid JSON: a string holds a NUL character (\\u0000), which PostgreSQL cannot store'],
    ['a lone surrogate', '{"v":1,"id":"a1","task":"default.noop","payload":{"echo":"\\ud800"},"createdAt":"2026-11-27T10:00:00Z"}', 'invalid JSON: a string holds a lone UTF-16 surrogate, which PostgreSQL cannot store'],
  ])('rejects %s at the edge, before it can fail the statements of its whole batch', (_case, body, reason) => {
    const parsed = parse(body);
    expect(!parsed.ok && parsed.reason).toBe(reason);
  });

  it('accepts brackets inside strings and escaped quotes however many, and a surrogate pair written as escapes', () => {
    const echo = `${'['.repeat(300)}\\"{{{ \ud83d\ude00`;
    const parsed = parse(`{"v":1,"id":"a1","task":"default.noop","payload":{"echo":${JSON.stringify(echo).replace('\u{1F600}', '\\ud83d\\ude00')}},"createdAt":"2026-11-27T10:00:00Z"}`);
    expect(parsed).toMatchObject({ ok: true, payload: { echo } });
  });

  it('refuses a time PostgreSQL cannot store, and files the rejection under the envelope id', () => {
    const parsed = parse({ ...newEnvelope('default.noop', {}, { id: 'year-zero' }), createdAt: '0000-06-01T00:00:00Z' });
    expect(parsed).toMatchObject({ ok: false, id: 'year-zero', reason: 'invalid envelope: createdAt: outside the years 0001–9999 UTC' });
    expect(parse(newEnvelope('default.noop', {}, { expires: '9999-12-31T23:00:00-02:00' }))).toMatchObject({ ok: false, reason: /^invalid envelope: expires: / });
  });

  it('files an envelope without a payload under its id', () => {
    const { payload: _payload, ...rest } = newEnvelope('default.noop', {}, { id: 'no-payload' });
    expect(parse(rest)).toMatchObject({ ok: false, id: 'no-payload', reason: /^invalid envelope: payload: / });
  });

  it('parses unicode escapes as producers such as Python json.dumps write them', () => {
    const parsed = parse('{"v":1,"id":"a1","task":"default.noop","payload":{"echo":"caf\\u00e9"},"createdAt":"2026-11-27T10:00:00Z"}');
    expect(parsed).toMatchObject({ ok: true, payload: { echo: 'café' } });
  });
});
