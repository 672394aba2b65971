import { describe, expect, it } from 'vitest';
import {
  catalogueErrors,
  queueNames,
  queues,
  schedules,
  settingsOfQueue,
  sourceQueueAttributes,
  tasks,
  tasksOfQueue,
} from '../../shared/catalogue/index.ts';

describe('catalogue', () => {
  it('is consistent', () => {
    expect(catalogueErrors()).toEqual([]);
  });

  it("carries the seed's retry settings per queue", () => {
    for (const task of tasksOfQueue('ai')) expect(task.retry).toMatchObject({ maxRetries: 5, backoffMaxSeconds: 600, jitter: true });
    for (const task of tasksOfQueue('billing')) expect(task.retry).toMatchObject({ maxRetries: 10, backoffMaxSeconds: 1800, jitter: true });
    for (const task of tasksOfQueue('data')) {
      expect(task.retry.maxRetries).toBeGreaterThanOrEqual(3);
      expect(task.retry.maxRetries).toBeLessThanOrEqual(5);
    }
    for (const task of Object.values(tasks)) expect(task).toMatchObject({ softTimeLimitSeconds: 240, timeLimitSeconds: 300 });
  });

  it("keeps the seed's Celery names as aliases", () => {
    expect(tasks['billing.process_refund'].alias).toBe('app.tasks.billing_tasks.process_refund');
    expect(tasks['data.cleanup_temp_files'].alias).toBe('app.tasks.data_tasks.cleanup_temp_files');
  });

  it("schedules the seed's beat entries and the result clean-up", () => {
    expect(schedules['cleanup-temp-files']).toMatchObject({ expression: 'rate(1 hour)', task: 'data.cleanup_temp_files' });
    expect(schedules['process-webhooks']).toMatchObject({ expression: 'rate(5 minutes)', task: 'billing.process_pending_webhooks' });
    expect(schedules['cleanup-task-results'].task).toBe('default.cleanup_task_results');
  });

  it('derives visibility timeouts and redrive counts from the queues and their tasks', () => {
    for (const name of queueNames) {
      const settings = settingsOfQueue(name);
      const largestBudget = Math.max(...tasksOfQueue(name).map((t) => t.retry.maxRetries + 1));
      expect(settings.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(6 * queues[name].timeoutSeconds);
      expect(settings.maxReceiveCount).toBeGreaterThanOrEqual(largestBudget + 5);
      expect(settings.deadLetterRetentionSeconds).toBeGreaterThan(settings.retentionSeconds);
    }
    expect(settingsOfQueue('billing').maxReceiveCount).toBe(16);
    // data.export_data is a singleton per user: a task waiting for its slot is received about once a minute, for up to 100 minutes.
    expect(settingsOfQueue('data').maxReceiveCount).toBe(Math.max(...tasksOfQueue('data').map((t) => t.retry.maxRetries + 1)) + 100);
    expect(sourceQueueAttributes(settingsOfQueue('ai'), 'arn:dlq')).toMatchObject({
      VisibilityTimeout: '1800',
      MaximumMessageSize: '1048576',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: 'arn:dlq', maxReceiveCount: 11 }),
    });
  });

  it('reports every inconsistency of a broken catalogue at once', () => {
    const broken = {
      queues: { default: { ...queues.default, maxConcurrency: 1 } },
      tasks: {
        'default.a': { ...tasks['default.noop'], name: 'default.a', softTimeLimitSeconds: 400, timeLimitSeconds: 300 },
        'ai.b': { ...tasks['default.noop'], name: 'ai.b', queue: 'ai' },
      },
      schedules: { nightly: { name: 'nightly', description: '', expression: 'every night', task: 'default.missing', payload: {} } },
    };

    const errors = catalogueErrors(broken);

    expect(errors).toEqual([
      'queue default: maxConcurrency must be 2–1000 (event source mapping limits)',
      'task default.a: soft time limit must be below the hard limit',
      'task ai.b: unknown queue ai',
      'schedule nightly: unknown task default.missing',
    ]);
  });
});
