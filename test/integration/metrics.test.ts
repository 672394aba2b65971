import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { newEnvelope } from '../../shared/envelope/envelope.ts';
import { databaseKind } from '../support/database.ts';
import { localCloudForSuite } from '../support/local-cloud.ts';
import { parseExposition, prometheusParserUnavailable } from '../support/prometheus.ts';
import { waitFor } from '../support/wait.ts';

/** `curl :5555/metrics` on the local cloud as `npm start` runs it, read by a Prometheus text-format parser. */
if (prometheusParserUnavailable) console.warn(`skipping the /metrics test: ${prometheusParserUnavailable}`);

describe.skipIf(prometheusParserUnavailable !== undefined)(`the local cloud's /metrics (${databaseKind})`, () => {
  const local = localCloudForSuite();

  const status = async (id: string) => ((await (await fetch(`${local.cloud.dashboardUrl}/api/tasks/${id}`)).json()) as { status?: string }).status;

  it("serves celery-exporter's task, queue and consumer metrics in Prometheus's text format", async () => {
    const good = [1, 2, 3].map((n) => newEnvelope('default.noop', { echo: n }));
    const bad = newEnvelope('default.noop', { unexpected: true } as never);
    for (const envelope of [...good, bad]) await local.sqs.send(new SendMessageCommand({ QueueUrl: local.cloud.queueUrl('default'), MessageBody: JSON.stringify(envelope) }));
    await waitFor(async () => (await Promise.all(good.map((e) => status(e.id)))).every((s) => s === 'SUCCESS') && (await status(bad.id)) === 'FAILURE', 20_000, 'the tasks to finish');

    const response = await fetch(`${local.cloud.dashboardUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const families = new Map(parseExposition(await response.text()).map((family) => [family.name, family]));
    const value = (sample: string, labels: Record<string, string>) =>
      [...families.values()].flatMap((family) => family.samples).find((s) => s.name === sample && Object.entries(labels).every(([key, v]) => s.labels[key] === v))?.value;

    expect(families.get('celery_task_succeeded')?.type).toBe('counter');
    expect(value('celery_task_succeeded_total', { name: 'default.noop', queue_name: 'default' })).toBe(3);
    expect(value('celery_task_failed_total', { name: 'default.noop', queue_name: 'default' })).toBe(1);
    expect(value('celery_tasks', { name: 'default.noop', queue_name: 'default', state: 'SUCCESS' })).toBe(3);

    expect(families.get('celery_task_runtime')?.type).toBe('histogram');
    const noop = { name: 'default.noop', queue_name: 'default' };
    expect(value('celery_task_runtime_count', noop)).toBe(3);
    expect(value('celery_task_runtime_bucket', { ...noop, le: '300' })).toBe(3);
    expect(value('celery_task_runtime_bucket', { ...noop, le: '+Inf' })).toBe(3);

    // Every lane of every queue, the high-priority ones included.
    expect(families.get('celery_queue_length')?.samples.map((sample) => sample.labels.queue_name).sort()).toEqual(['ai', 'ai-high', 'billing', 'billing-high', 'data', 'data-high', 'default', 'default-high']);
    await waitFor(async () => (await fetch(`${local.cloud.dashboardUrl}/metrics`).then((r) => r.text())).includes('celery_dead_letter_queue_length{queue_name="default"} 1'), 10_000, 'the dead letter to be counted');
    expect(families.get('celery_worker_up')?.samples.map((sample) => [sample.labels.hostname, sample.value])).toEqual([['consumer-default', 1], ['consumer-ai', 1], ['consumer-data', 1], ['consumer-billing', 1]]);
    expect(value('celery_worker_tasks_active', { hostname: 'consumer-default' })).toBe(0);
    // The parser is Prometheus's own: a malformed line would not pass it.
    expect(() => parseExposition('celery_tasks{state="SUCCESS" 1\n')).toThrow(/does not parse/);
  });
});
