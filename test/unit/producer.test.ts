import { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { queueArnOf, scheduleNameOf } from '../../shared/producer/long-delay.ts';
import { TaskProducer } from '../../shared/producer/producer.ts';
import { buildTaskMessage, InvalidPayloadError, resolveTask, UnknownTaskError } from '../../shared/producer/send.ts';
import { payloadRefOf } from '../../shared/results/payloads.ts';

describe('the producer', () => {
  it('type-checks payloads against the catalogue at compile time', () => {
    const producer = new TaskProducer({ longDelays: null, sqs: new SQSClient({ region: 'us-east-1' }), queueUrls: {} });
    // Never called: `npm run typecheck` is the assertion.
    const typed = () => {
      // @ts-expect-error userId is a number
      void producer.send('billing.sync_subscription_status', { userId: 'seven' });
      // @ts-expect-error no such task
      void producer.send('billing.nope', {});
      void producer.send('billing.process_refund', { paymentIntentId: 'pi_1', reason: 'duplicate' });
    };
    expect(typed).toBeTypeOf('function');
  });

  it('checks payloads and options at run time, and caps DelaySeconds at 900', () => {
    const now = new Date('2026-11-27T09:00:00Z');
    expect(() => buildTaskMessage('billing.nope', {})).toThrow(UnknownTaskError);
    expect(() => buildTaskMessage('billing.sync_subscription_status', { userId: 'seven' })).toThrow(InvalidPayloadError);
    expect(() => buildTaskMessage('default.noop', {}, { countdown: -1 })).toThrow(/countdown/);
    expect(() => buildTaskMessage('default.noop', {}, { eta: 'soon' })).toThrow(/eta/);
    expect(buildTaskMessage('default.noop', {}, { countdown: 60 }, now)).toMatchObject({ delaySeconds: 60, waitSeconds: 60, envelope: { eta: '2026-11-27T09:01:00.000Z' } });
    expect(buildTaskMessage('default.noop', {}, { countdown: 7200 }, now)).toMatchObject({ delaySeconds: 900, waitSeconds: 7200 });
    expect(buildTaskMessage('app.tasks.billing_tasks.process_refund', { paymentIntentId: 'pi_1', reason: 'duplicate' }, { id: 'refund-1' }, now)).toMatchObject({ queue: 'billing', envelope: { id: 'refund-1', task: 'billing.process_refund' } });
  });

  it('sends a payload over 256 KiB by reference when the producer has a files bucket, and in the message otherwise', () => {
    const now = new Date('2026-11-27T09:00:00Z');
    const echo = 'x'.repeat(300 * 1024);
    const byReference = buildTaskMessage('default.noop', { echo }, { id: 'big-1' }, now, undefined, {}, true);
    const text = JSON.stringify({ echo });
    expect(byReference.envelope).toMatchObject({ id: 'big-1', payload: {}, payloadRef: payloadRefOf('big-1', text) });
    expect(byReference.largePayload).toEqual({ ref: payloadRefOf('big-1', text), text });
    expect(byReference.body.length).toBeLessThan(1024);
    expect(byReference.envelope.payloadRef!.key).toMatch(/^task-payloads\/big-1\/[0-9a-f]{64}\.json$/);
    const inline = buildTaskMessage('default.noop', { echo }, { id: 'big-1' }, now);
    expect(inline.largePayload).toBeUndefined();
    expect(inline.envelope.payload).toEqual({ echo });
    // Without a bucket, what does not fit a message is refused as before.
    expect(() => buildTaskMessage('default.noop', { echo: 'x'.repeat(1024 * 1024) }, {}, now)).toThrow(/over SQS's 1048576-byte limit/);
    // An object kept 30 days cannot wait for an ETA weeks away.
    expect(() => buildTaskMessage('default.noop', { echo }, { countdown: 25 * 86_400 }, now, undefined, {}, true)).toThrow(/kept 30 days/);
  });

  it("delays a debounced send by its window, at most SQS's 15 minutes, without making it an ETA", () => {
    const debounced = (window: string) => buildTaskMessage('default.noop', {}, {}, new Date(), (name) => ({ ...resolveTask(name), debounce: window }));
    expect(debounced('30s')).toMatchObject({ delaySeconds: 30, waitSeconds: 0 });
    expect(debounced('1h')).toMatchObject({ delaySeconds: 900, waitSeconds: 0 });
    expect(debounced('30s').envelope.eta).toBeUndefined();
  });

  it('names schedules within Scheduler’s rules and targets queues by ARN', () => {
    const name = scheduleNameOf('order:1042:refund');
    expect(name).toMatch(/^[0-9A-Za-z_.-]{1,64}$/);
    expect(scheduleNameOf('order:1042:refund')).toBe(name);
    expect(scheduleNameOf('order:1043:refund')).not.toBe(name);
    expect(queueArnOf('https://sqs.eu-west-1.amazonaws.com/123456789012/prod-billing', 'us-east-1')).toBe('arn:aws:sqs:eu-west-1:123456789012:prod-billing');
    expect(queueArnOf('https://sqs.cn-north-1.amazonaws.com.cn/123456789012/prod-ai', 'us-east-1')).toBe('arn:aws-cn:sqs:cn-north-1:123456789012:prod-ai');
    // An emulator's URL names no region: the configured one is used, never the process environment's.
    expect(queueArnOf('http://127.0.0.1:4566/000000000000/local-default', 'eu-central-1')).toBe('arn:aws:sqs:eu-central-1:000000000000:local-default');
    expect(queueArnOf('http://127.0.0.1:4566/000000000000/local-default', 'us-gov-west-1')).toBe('arn:aws-us-gov:sqs:us-gov-west-1:000000000000:local-default');
    expect(() => queueArnOf('https://example.com/', 'us-east-1')).toThrow(/not a queue URL/);
  });
});
