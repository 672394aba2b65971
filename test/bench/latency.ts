/**
 * Latency from enqueue to SUCCESS at a fixed, moderate rate. Each task is sent alone with
 * SendMessage (the producer SDK's `sendMessage`) on a fixed schedule; its enqueue time is
 * the clock just before that call. Its SUCCESS time is the result row's `date_done`: the
 * `now()` of the statement that records the outcome, on the same machine's clock (the
 * commit follows within a millisecond or two). The consumer runs with the catalogue's
 * `default` settings, batching window included; a warm-up of two seconds is not counted.
 */
import { sql } from 'drizzle-orm';
import { queues } from '../../shared/catalogue/index.ts';
import { provisionQueues } from '../../shared/local/queues.ts';
import { TaskProducer } from '../../shared/producer/producer.ts';
import { percentile, sum, type Figure, type Progress } from './figures.ts';
import { databaseLabels, startBenchConsumer, withStoreAndEmulator, type ConsumerSettingsUsed, type DatabaseKind } from './harness.ts';
import type { RequestCount } from './round-trips.ts';

export interface LatencyOptions {
  readonly database: DatabaseKind;
  /** Tasks per second. */
  readonly rate: number;
  readonly seconds: number;
}

export interface LatencyResult {
  readonly database: DatabaseKind;
  readonly label: string;
  readonly rate: number;
  readonly seconds: number;
  readonly tasks: number;
  readonly settings: ConsumerSettingsUsed;
  /** The rate the sender kept: tasks over the time from the first send to the last. */
  readonly achievedRate: number;
  /** Enqueue → `date_done` of every measured task, in ms, in send order. */
  readonly latenciesMs: readonly number[];
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly meanBatch: number;
  /** The consumer's requests over the measured part (warm-up excluded). */
  readonly requests: RequestCount;
}

export async function measure(options: LatencyOptions, progress: Progress): Promise<LatencyResult> {
  const { rate, seconds } = options;
  return withStoreAndEmulator(options.database, async ({ store, emulator, producerSqs }) => {
    const provisioned = await provisionQueues(producerSqs, 'latency');
    const producer = new TaskProducer({ longDelays: null, sqs: producerSqs, queueUrls: { default: provisioned.default.url } });
    const consumer = startBenchConsumer({
      endpoint: emulator.endpoint,
      queues: provisioned,
      database: store.database,
      batchingWindowSeconds: queues.default.batchingWindowSeconds,
    });
    try {
      /** Sends `count` tasks on the rate's schedule; resolves with each id's enqueue time once all are sent. */
      const sendAtRate = async (count: number, phase: string) => {
        const sentAt = new Map<string, number>();
        const sends: Promise<void>[] = [];
        const start = performance.now();
        for (let i = 0; i < count; i++) {
          const due = start + (i * 1000) / rate;
          const wait = due - performance.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          const enqueuedAt = Date.now();
          sends.push(producer.sendMessage('default.noop', { echo: i }).then((message) => void sentAt.set(message.envelope.id, enqueuedAt)));
          progress(phase, i + 1, count);
        }
        await Promise.all(sends);
        return { sentAt, sendSeconds: (performance.now() - start) / 1000 };
      };

      const warmUp = Math.ceil(rate * 2);
      await sendAtRate(warmUp, 'latency warm-up');
      await consumer.acknowledgedAt(warmUp);
      const requestsBefore = structuredClone(consumer.requests);
      const invocationsBefore = consumer.invocations.length;

      const tasks = Math.round(rate * seconds);
      const { sentAt, sendSeconds } = await sendAtRate(tasks, `latency ${databaseLabels[options.database]} at ${rate}/s`);
      await Promise.race([
        consumer.acknowledgedAt(warmUp + tasks),
        new Promise((_, reject) => setTimeout(() => reject(new Error('the latency run did not finish within 60 s of its last send')), 60_000).unref()),
      ]);
      const requests = difference(consumer.requests, requestsBefore);
      const batches = consumer.invocations.slice(invocationsBefore).filter((i) => i.outcome === 'ok').map((i) => i.records);

      const rows = await store.database.rows<{ id: string; done: number }>(sql`
        select id, extract(epoch from date_done) * 1000 as done from task_results where status = 'SUCCESS'`);
      const done = new Map(rows.map((row) => [row.id, Number(row.done)]));
      const latenciesMs = [...sentAt].map(([id, enqueuedAt]) => {
        const finished = done.get(id);
        if (finished === undefined) throw new Error(`task ${id} has no SUCCESS row`);
        return finished - enqueuedAt;
      });
      return {
        database: options.database,
        label: databaseLabels[options.database],
        rate,
        seconds,
        tasks,
        settings: consumer.settings,
        achievedRate: tasks > 1 ? (tasks - 1) / (sendSeconds - 1 / rate) : tasks,
        latenciesMs,
        p50: percentile(latenciesMs, 50),
        p95: percentile(latenciesMs, 95),
        p99: percentile(latenciesMs, 99),
        max: Math.max(...latenciesMs),
        meanBatch: sum(batches) / Math.max(1, batches.length),
        requests,
      };
    } finally {
      await consumer.stop();
    }
  });
}

function difference(after: RequestCount, before: RequestCount): RequestCount {
  const byAction = Object.fromEntries(Object.entries(after.byAction).map(([action, n]) => [action, n - (before.byAction[action] ?? 0)]).filter(([, n]) => Number(n) > 0));
  return { byAction, total: after.total - before.total, billed: after.billed - before.billed };
}

export function latencyFigures(run: LatencyResult): Figure[] {
  const part = 'latency';
  const at = `${run.label}, ${run.rate}/s`;
  return [
    { part, name: `enqueue → SUCCESS p50 (${at})`, value: run.p50, unit: 'ms' },
    { part, name: `enqueue → SUCCESS p95 (${at})`, value: run.p95, unit: 'ms' },
    { part, name: `enqueue → SUCCESS p99 (${at})`, value: run.p99, unit: 'ms' },
    { part, name: `rate kept by the sender (${run.label})`, value: run.achievedRate, unit: 'tasks/s', digits: 1 },
    { part, name: `mean batch at this rate (${run.label})`, value: run.meanBatch, unit: 'tasks', digits: 2 },
  ];
}
