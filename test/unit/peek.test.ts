import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { newEnvelope } from '../../shared/envelope/envelope.ts';
import { taskOfBody } from '../../shared/operations/peek.ts';

type Fixture = { case: string; request: { params: { MessageBody: string } } };
const fixtures = (JSON.parse(readFileSync(new URL('../fixtures/celery/messages.json', import.meta.url), 'utf8')) as { messages: Fixture[] }).messages;

describe('taskOfBody (what inspect reads of a message it does not receive)', () => {
  it('reads an envelope', () => {
    const envelope = newEnvelope('default.noop', {}, { id: 'peeked-1', eta: '2026-12-24T18:00:00.000Z' });
    expect(taskOfBody(JSON.stringify(envelope))).toEqual({ id: 'peeked-1', task: 'default.noop', eta: '2026-12-24T18:00:00.000Z' });
  });

  it("reads a Celery message, base64 as kombu sends it, from its headers", () => {
    const kwargs = fixtures.find((fixture) => fixture.case === 'kwargs')!;
    expect(taskOfBody(kwargs.request.params.MessageBody)).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), task: 'app.tasks.billing_tasks.process_refund', eta: null });
  });

  it.each(['not json', '[1, 2]', '{"v": 1}', ''])('gives nulls for %j', (body) => {
    expect(taskOfBody(body)).toEqual({ id: null, task: null, eta: null });
  });
});
