import { queueNames } from '../catalogue/index.ts';
import { startedTasks } from '../results/inspect.ts';
import { runtimeHistograms, stateCounts } from '../results/metrics.ts';
import type { TaskStatus } from '../results/schema.ts';
import { activeOf, type InspectSources } from './inspect.ts';
import { queueDepths } from './queues.ts';

/** Run-time bounds of `celery_task_runtime`, in seconds, from a no-op to a consumer's 5-minute timeout. */
const runtimeBounds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

type Labels = Readonly<Record<string, string>>;
interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly samples: readonly { readonly suffix?: string; readonly labels: Labels; readonly value: number }[];
}

const outcomeCounters: readonly [string, TaskStatus, string][] = [
  ['celery_task_succeeded_total', 'SUCCESS', 'Tasks that succeeded'],
  ['celery_task_failed_total', 'FAILURE', 'Tasks that failed for good'],
  ['celery_task_revoked_total', 'REVOKED', 'Tasks revoked (by an operator, on expiry, or folded into another)'],
];

/**
 * The local cloud's figures in Prometheus's text format, under the names and labels of
 * celery-exporter (github.com/danihodovic/celery-exporter): task outcomes and run times per
 * task name and queue from the result store, queue and dead-letter depths per lane from SQS,
 * the consumers' state and running tasks. Read at each scrape, so a restart loses nothing;
 * a purge or the results' clean-up lowers a counter, which Prometheus takes as a reset.
 */
export async function prometheusText(sources: InspectSources): Promise<string> {
  const [counts, histograms, depths, started, triggers] = await Promise.all([
    stateCounts(sources.database),
    runtimeHistograms(sources.database, runtimeBounds.map((seconds) => seconds * 1000)),
    queueDepths(sources.sqs, sources.queues, sources.oldestAge),
    startedTasks(sources.database, 1000),
    sources.eventSources?.list().catch(() => undefined),
  ]);
  const task = (name: string, queue: string) => ({ name, queue_name: queue });
  const lane = (depth: (typeof depths)[number]) => ({ queue_name: depth.lane });
  const running = started.map(activeOf).filter((active) => !active.leaseExpired);
  const families: Family[] = [
    ...outcomeCounters.map(([name, status, help]): Family => ({
      name, help, type: 'counter', samples: counts.states.filter((row) => row.status === status).map((row) => ({ labels: task(row.name, row.queue), value: row.tasks })),
    })),
    { name: 'celery_task_retried_total', help: 'Attempts that failed and were retried', type: 'counter', samples: counts.retries.map((row) => ({ labels: task(row.name, row.queue), value: row.retries })) },
    { name: 'celery_tasks', help: 'Tasks in each state', type: 'gauge', samples: counts.states.map((row) => ({ labels: { ...task(row.name, row.queue), state: row.status }, value: row.tasks })) },
    {
      name: 'celery_task_runtime', help: 'Run time of finished tasks, in seconds', type: 'histogram',
      samples: histograms.flatMap((h) => [
        ...runtimeBounds.map((bound, n) => ({ suffix: '_bucket', labels: { ...task(h.name, h.queue), le: String(bound) }, value: h.within[n]! })),
        { suffix: '_bucket', labels: { ...task(h.name, h.queue), le: '+Inf' }, value: h.count },
        { suffix: '_sum', labels: task(h.name, h.queue), value: h.sumMs / 1000 },
        { suffix: '_count', labels: task(h.name, h.queue), value: h.count },
      ]),
    },
    { name: 'celery_queue_length', help: 'Messages waiting in each queue lane', type: 'gauge', samples: depths.map((d) => ({ labels: lane(d), value: d.visible })) },
    { name: 'celery_queue_in_flight', help: 'Messages received and not yet deleted, per lane', type: 'gauge', samples: depths.map((d) => ({ labels: lane(d), value: d.inFlight })) },
    { name: 'celery_queue_delayed', help: 'Messages sent with a delay still running, per lane', type: 'gauge', samples: depths.map((d) => ({ labels: lane(d), value: d.delayed })) },
    { name: 'celery_dead_letter_queue_length', help: "Messages in each lane's dead-letter queue", type: 'gauge', samples: depths.map((d) => ({ labels: lane(d), value: d.deadLetters })) },
    {
      name: 'celery_queue_oldest_message_age_seconds', help: 'Age of the oldest waiting message, per lane', type: 'gauge',
      samples: depths.flatMap((d) => (d.oldestAgeSeconds === null ? [] : [{ labels: lane(d), value: d.oldestAgeSeconds }])),
    },
    {
      name: 'celery_worker_up', help: "1 while a queue's consumer receives (its event sources enabled), 0 while paused", type: 'gauge',
      samples: (triggers ?? []).map((view) => ({ labels: { hostname: `consumer-${view.queue}` }, value: view.state === 'Enabled' ? 1 : 0 })),
    },
    {
      name: 'celery_worker_tasks_active', help: "Tasks each queue's consumer is running now", type: 'gauge',
      samples: queueNames.map((queue) => ({ labels: { hostname: `consumer-${queue}` }, value: running.filter((active) => active.queue === queue).length })),
    },
  ];
  return render(families);
}

/** The text exposition format 0.0.4; written here because prom-client instruments events as they happen and cannot take counts read from a store. */
function render(families: readonly Family[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${family.help.replaceAll('\\', '\\\\').replaceAll('\n', '\\n')}`, `# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) {
      const labels = Object.entries(sample.labels).map(([key, value]) => `${key}="${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`);
      lines.push(`${family.name}${sample.suffix ?? ''}${labels.length > 0 ? `{${labels.join(',')}}` : ''} ${Number.isFinite(sample.value) ? sample.value : 'NaN'}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
