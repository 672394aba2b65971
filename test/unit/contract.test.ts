import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envelopeV1 } from '../../shared/envelope/envelope.ts';
import { resolveTask } from '../../shared/producer/send.ts';
import { publishedValidators } from '../support/contract.ts';

describe('the published message contract', () => {
  it('accepts every sample envelope, and each payload against its task schema', async () => {
    const { envelope, payload } = await publishedValidators();
    const files = (await readdir('events/envelopes')).filter((file) => file.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(11);
    for (const file of files) {
      const message = JSON.parse(await readFile(join('events/envelopes', file), 'utf8'));
      expect(envelope(message), `${file}: ${JSON.stringify(envelope.errors)}`).toBe(true);
      const validate = await payload(resolveTask(message.task).name);
      expect(validate(message.payload), `${file}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it('accepts a hand-written envelope with a chain and a chord callback, as the runtime does', async () => {
    const { envelope } = await publishedValidators();
    const handWritten = {
      v: 1,
      id: 'refund-order-1042',
      task: 'app.tasks.billing_tasks.process_refund',
      payload: { paymentIntentId: 'pi_3Nk', amount: 1500, reason: 'duplicate' },
      createdAt: '2026-11-27T09:00:00+00:00',
      expires: '2026-11-27T10:00:00+00:00',
      chain: [{ id: 'sync-after-refund-1042', task: 'billing.sync_subscription_status', payload: { userId: 42 }, immutable: true }],
      group: { id: 'refunds-1042', index: 0, size: 2, callback: { id: 'refunds-1042-done', task: 'default.noop', payload: {}, immutable: true } },
    };
    expect(envelope(handWritten), JSON.stringify(envelope.errors)).toBe(true);
    expect(envelopeV1.safeParse(handWritten).success).toBe(true);
  });

  it('refuses what the runtime refuses: unknown fields, a bad id, a missing version', async () => {
    const { envelope } = await publishedValidators();
    const valid = { v: 1, id: 'a-1', task: 'default.noop', payload: {}, createdAt: '2026-11-27T09:00:00Z' };
    for (const invalid of [{ ...valid, priority: 9 }, { ...valid, id: '-starts-with-dash' }, { ...valid, v: 2 }, { ...valid, createdAt: 'yesterday' }, { ...valid, chain: [] }]) {
      expect(envelope(invalid), JSON.stringify(invalid)).toBe(false);
      expect(envelopeV1.safeParse(invalid).success, JSON.stringify(invalid)).toBe(false);
    }
  });
});
