import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { tasks } from '../../shared/catalogue/index.ts';
import { assertMessageFits, envelopeV1, messageBytes, MessageTooLargeError, newEnvelope } from '../../shared/envelope/envelope.ts';
import { messageJsonSchemas } from '../../shared/envelope/json-schemas.ts';
import { parseMessage, TaskDirectory } from '../../shared/runtime/parse.ts';
import { implementations } from '../../shared/tasks/index.ts';
import { implement } from '../../shared/runtime/task.ts';
import { sqsRecordFactory } from '../support/factories.ts';

describe('envelope v1', () => {
  it('accepts a new envelope and rejects unknown fields', () => {
    const envelope = newEnvelope('default.noop', { echo: 1 });
    expect(envelopeV1.parse(envelope)).toEqual(envelope);
    expect(envelopeV1.safeParse({ ...envelope, priority: 9 }).success).toBe(false);
    expect(envelopeV1.safeParse({ ...envelope, v: 2 }).success).toBe(false);
  });

  it('accepts caller-chosen ids of a safe character set only', () => {
    expect(envelopeV1.safeParse(newEnvelope('default.noop', {}, { id: 'refund:pi_123:2026-11' })).success).toBe(true);
    expect(envelopeV1.safeParse(newEnvelope('default.noop', {}, { id: '../etc/passwd' })).success).toBe(false);
    expect(envelopeV1.safeParse(newEnvelope('default.noop', {}, { id: 'x'.repeat(129) })).success).toBe(false);
  });

  it("refuses a message over SQS's 1 MiB limit, counting attributes", () => {
    expect(() => assertMessageFits('x'.repeat(1_048_576))).not.toThrow();
    expect(() => assertMessageFits('x'.repeat(1_048_577))).toThrow(MessageTooLargeError);
    expect(() => assertMessageFits('x'.repeat(1_048_570), { trace: { DataType: 'String', StringValue: 'abcdef' } })).toThrow(/over SQS's 1048576-byte limit/);
    expect(() => assertMessageFits('é'.repeat(524_289))).toThrow(MessageTooLargeError);
  });

  it('publishes JSON Schemas in events/schema/ that match the zod schemas', async () => {
    for (const [file, schema] of Object.entries(messageJsonSchemas())) {
      const published = JSON.parse(await readFile(join('events/schema', file), 'utf8'));
      expect(published, `${file} is stale: run npm run schemas`).toEqual(schema);
    }
  });
});

describe('sample events', () => {
  const directory = (queue: string) =>
    new TaskDirectory(queue, Object.values(tasks).map((definition) => implementationOf(definition)), Object.values(tasks));
  const implementationOf = (definition: (typeof tasks)[keyof typeof tasks]) =>
    implementations.find((i) => i.definition.name === definition.name) ?? implement(definition, () => null);

  it('cover every queue with envelopes valid for their task', async () => {
    const files = await readdir('events/sqs');
    expect(files.sort()).toEqual(['ai.json', 'billing.json', 'data.json', 'default.json']);
    for (const file of files) {
      const queue = file.replace('.json', '');
      const event = JSON.parse(await readFile(join('events/sqs', file), 'utf8')) as SQSEvent;
      for (const record of event.Records) {
        const parsed = parseMessage(record, directory(queue));
        expect(parsed, `${file}: ${parsed.ok ? '' : parsed.reason}`).toMatchObject({ ok: true });
      }
    }
  });

  it('include one envelope per catalogue task, each valid', async () => {
    const files = await readdir('events/envelopes');
    expect(files.sort()).toEqual(Object.keys(tasks).map((name) => `${name}.json`).sort());
    for (const file of files) {
      const body = await readFile(join('events/envelopes', file), 'utf8');
      const parsed = parseMessage(sqsRecordFactory(body), directory(file.split('.')[0]!));
      expect(parsed, file).toMatchObject({ ok: true });
    }
  });

  it('counts every attribute kind towards the limit, a Binary value as its base64 text', () => {
    const attributes = { text: { DataType: 'String', StringValue: 'abc' }, blob: { DataType: 'Binary', BinaryValue: Buffer.alloc(300) } };
    expect(messageBytes('body', attributes)).toBe(4 + (4 + 6 + 3) + (4 + 6 + 400));
    expect(() => assertMessageFits('x'.repeat(1_048_576 - 410), { blob: attributes.blob })).not.toThrow();
    expect(() => assertMessageFits('x'.repeat(1_048_576 - 409), { blob: attributes.blob })).toThrow(MessageTooLargeError);
  });
});
