/**
 * End-to-end throughput: N `default.noop` tasks are sent with SendMessageBatch through the
 * producer SDK, then drained by the real poller and consumer with every result recorded;
 * beside them, the floor (a bare receive → delete loop, same emulator, concurrency and N).
 * Both get an untimed warm-up pass first, so neither pays for the other's JIT. Floor and
 * consumer then alternate for a few rounds, and the round with the median ratio is the one
 * reported: on a machine others share, a burst of their work lands in one pass, not all.
 */
import { sql } from 'drizzle-orm';
import { queues } from '../../shared/catalogue/index.ts';
import { provisionQueues } from '../../shared/local/queues.ts';
import { TaskProducer } from '../../shared/producer/producer.ts';
import { cpuDuring, processCpuMs } from './cpu.ts';
import { emulatorClient } from './emulator.ts';
import { sum, type Figure, type Progress } from './figures.ts';
import { drainBare, type FloorResult } from './floor.ts';
import { databaseLabels, startBenchConsumer, withStoreAndEmulator, type BenchConsumer, type ConsumerSettingsUsed, type DatabaseKind } from './harness.ts';
import { countSqsRequests, type RequestCount } from './round-trips.ts';

export interface ThroughputOptions {
  readonly database: DatabaseKind;
  readonly tasks: number;
  /** Floor-then-consumer rounds. @default 3 */
  readonly rounds?: number;
  /** A backlog fills every batch at once, so the window only adds a wait to the last one. @default 0 */
  readonly batchingWindowSeconds?: number;
}

export interface RoundSummary {
  readonly floorTasksPerSecond: number;
  readonly consumerTasksPerSecond: number;
  readonly ratioToFloor: number;
  readonly floorCpuMs: Record<string, number>;
  readonly consumerCpuMs: Record<string, number>;
}

export interface ThroughputResult {
  readonly database: DatabaseKind;
  readonly label: string;
  readonly serverVersion: string;
  readonly tasks: number;
  readonly settings: ConsumerSettingsUsed;
  /** Sending the consumer pass's N tasks (SendMessageBatch, 4 calls at a time). */
  readonly send: { readonly seconds: number; readonly requests: RequestCount };
  readonly floor: FloorResult & { readonly cpuMs: Record<string, number> };
  readonly consumer: {
    /** CPU time spent during the pass: this process (poller, handler, drivers), the emulator, the PostgreSQL server processes. */
    readonly cpuMs: Record<string, number>;
    readonly seconds: number;
    readonly tasksPerSecond: number;
    readonly requests: RequestCount;
    readonly statements: number;
    /** Bytes the consumer wrote to stdout (its logs and EMF metrics), which CloudWatch Logs ingests in Lambda. */
    readonly logBytes: number;
    readonly invocations: number;
    readonly meanBatch: number;
    /** Every handler call's wall time in ms, in order. */
    readonly handlerMs: readonly number[];
    readonly succeeded: number;
  };
  readonly ratioToFloor: number;
  /** Every round, in order; the fields above are those of the round with the median ratio. */
  readonly rounds: readonly RoundSummary[];
}

export async function measure(options: ThroughputOptions, progress: Progress): Promise<ThroughputResult> {
  const { tasks } = options;
  const warmUp = Math.min(tasks, 1_000);
  const definition = queues.default;
  return withStoreAndEmulator(options.database, async ({ store, emulator, producerSqs }) => {
    /** Provisions a stage's queues and sends `count` tasks to its `default` queue through a counted client. */
    const fill = async (stage: string, count: number, phase: string) => {
      const provisioned = await provisionQueues(producerSqs, stage);
      const sqs = emulatorClient(emulator.endpoint);
      const requests = countSqsRequests(sqs);
      const producer = new TaskProducer({ longDelays: null, sqs, queueUrls: { default: provisioned.default.url } });
      const started = performance.now();
      let sent = 0;
      let claimed = 0;
      await Promise.all(Array.from({ length: 4 }, async () => {
        while (claimed < count) {
          const size = Math.min(100, count - claimed);
          claimed += size;
          await producer.sendBatch(Array.from({ length: size }, () => ({ task: 'default.noop', payload: { echo: 'bench' } })));
          progress(phase, (sent += size), count);
        }
      }));
      sqs.destroy();
      return { provisioned, send: { seconds: (performance.now() - started) / 1000, requests } };
    };
    const floor = async (stage: string, count: number, phase: string) => {
      const { provisioned } = await fill(stage, count, `${phase}: sending`);
      const { result, cpuMs } = await cpuDuring({ emulator: emulator.pid }, () =>
        drainBare({ endpoint: emulator.endpoint, queueUrl: provisioned.default.url, tasks: count, concurrency: definition.maxConcurrency, batchSize: definition.batchSize, progress, phase }));
      return { ...result, cpuMs };
    };
    const consume = async (stage: string, count: number, phase: string) => {
      const { provisioned, send } = await fill(stage, count, `${phase}: sending`);
      const backends = await store.backendPids();
      const backendCpu = () => backends.reduce((total, pid) => total + processCpuMs(pid), 0);
      const backendBefore = backendCpu();
      store.statements.count = 0;
      store.statements.counting = true;
      const logs = countStdoutBytes();
      let consumer!: BenchConsumer;
      let started = 0;
      const { result: finished, cpuMs } = await cpuDuring({ emulator: emulator.pid }, () => {
        started = performance.now();
        consumer = startBenchConsumer({
          endpoint: emulator.endpoint,
          queues: provisioned,
          database: store.database,
          batchingWindowSeconds: options.batchingWindowSeconds ?? 0,
          onAcknowledged: (done) => progress(phase, done, count),
        });
        return consumer.acknowledgedAt(count);
      });
      const postgres = backendCpu() - backendBefore;
      await consumer.stop();
      store.statements.counting = false;
      const logBytes = logs.stop();
      return { consumer, send, seconds: (finished - started) / 1000, statements: store.statements.count, logBytes, cpuMs: { ...cpuMs, ...(backends.length ? { postgres } : {}) } };
    };

    await floor('warm-floor', warmUp, 'warm-up floor');
    await consume('warm-consumer', warmUp, 'warm-up consumer');
    const rounds = [];
    const count = options.rounds ?? 3;
    for (let round = 1; round <= count; round++) {
      const of = count > 1 ? ` (${round}/${count})` : '';
      const floorRun = await floor(`floor-${round}`, tasks, `floor ${databaseLabels[options.database]}${of}`);
      const run = await consume(`bench-${round}`, tasks, `consumer ${databaseLabels[options.database]}${of}`);
      rounds.push({ floorRun, run, ratio: tasks / run.seconds / floorRun.tasksPerSecond });
    }
    const { floorRun, run, ratio } = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor((rounds.length - 1) / 2)]!;
    const { consumer } = run;
    const [{ succeeded } = { succeeded: 0 }] = await store.database.rows<{ succeeded: number }>(sql`
      select count(*)::int as succeeded from task_results where status = 'SUCCESS' and queue = 'default'`);
    const records = consumer.invocations.filter((i) => i.outcome === 'ok');
    return {
      database: options.database,
      label: databaseLabels[options.database],
      serverVersion: store.version,
      tasks,
      settings: consumer.settings,
      send: run.send,
      floor: floorRun,
      consumer: {
        cpuMs: run.cpuMs,
        seconds: run.seconds,
        tasksPerSecond: tasks / run.seconds,
        requests: consumer.requests,
        statements: run.statements,
        logBytes: run.logBytes,
        invocations: consumer.invocations.length,
        meanBatch: sum(records.map((r) => r.records)) / Math.max(1, records.length),
        handlerMs: consumer.handlerMs,
        // Every round's and the warm-up's rows: all of them must have succeeded.
        succeeded: Number(succeeded) - warmUp - tasks * (count - 1),
      },
      ratioToFloor: ratio,
      rounds: rounds.map((r) => ({
        floorTasksPerSecond: r.floorRun.tasksPerSecond,
        consumerTasksPerSecond: tasks / r.run.seconds,
        ratioToFloor: r.ratio,
        floorCpuMs: r.floorRun.cpuMs,
        consumerCpuMs: r.run.cpuMs,
      })),
    };
  });
}

/** Counts what this process writes to stdout until `stop()`, which returns the byte count. */
function countStdoutBytes(): { stop(): number } {
  const write = process.stdout.write;
  let bytes = 0;
  process.stdout.write = function (this: NodeJS.WriteStream, chunk: string | Uint8Array, ...rest: unknown[]) {
    bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof process.stdout.write;
  return {
    stop() {
      process.stdout.write = write;
      return bytes;
    },
  };
}

export function throughputFigures(run: ThroughputResult): Figure[] {
  const part = 'throughput';
  const label = run.label;
  const handler = [...run.consumer.handlerMs].sort((a, b) => a - b);
  const ratios = run.rounds.map((r) => r.ratioToFloor * 100);
  const spread = run.rounds.length > 1 ? `, median of ${run.rounds.length} rounds: ${Math.min(...ratios).toFixed(0)}–${Math.max(...ratios).toFixed(0)} %` : '';
  return [
    { part, name: `floor: bare receive → DeleteMessageBatch (${label} run)`, value: run.floor.tasksPerSecond, unit: 'tasks/s' },
    { part, name: `consumer: poller + handler + results (${label})`, value: run.consumer.tasksPerSecond, unit: 'tasks/s' },
    {
      part,
      name: `consumer ÷ floor (${label}${spread})`,
      value: run.ratioToFloor * 100,
      unit: '%',
      ...(run.database === 'postgres' ? { target: { at: 'least', value: 50 } as const } : {}),
    },
    { part, name: `handler time per invocation, median (${label})`, value: handler[Math.floor(handler.length / 2)] ?? Number.NaN, unit: 'ms', digits: 1 },
  ];
}
