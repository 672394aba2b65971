/**
 * Memory. (1) The CSV clean-up's peak RSS: csv-memory.ts run as it is (`--json`), the task
 * bundled as Lambda bundles it, against PostgreSQL. (2) The local cloud's RSS after many
 * tasks: `npm start`'s entry in a process of its own (embedded emulator, PGlite, on free
 * ports and a temporary folder), fed `default.noop` tasks with SendMessageBatch while it
 * works through them (at most 2,000 waiting at a time, so the figure is the run's and not
 * a backlog's), then VmRSS and VmHWM read from /proc/<pid>/status. The local cloud starts
 * on a fresh PGlite each time, so its ready time includes creating the data directory, which
 * runs in a process of its own (shared/results/pglite.ts): (3) that process's peak, on its own.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskProducer } from '../../shared/producer/producer.ts';
import { startLocalCloudProcess } from '../support/local-cloud.ts';
import { queueDepth } from '../support/sqs.ts';
import { emulatorClient } from './emulator.ts';
import type { Figure, Progress } from './figures.ts';

export interface MemoryOptions {
  readonly csvMegabytes: number;
  readonly cloudTasks: number;
}

export interface CsvMemory {
  readonly megabytes: number;
  readonly bytes: number;
  readonly rows: number;
  readonly seconds: number;
  readonly peakRssMb: number;
  readonly baselineRssMb: number;
}

export interface CloudMemory {
  readonly tasks: number;
  readonly seconds: number;
  /** From the spawn of `npm start`'s entry to its ready line, on a fresh PGlite. */
  readonly readySeconds: number;
  /** VmRSS once it printed its ready line, before any task. */
  readonly readyRssMb: number;
  /** VmRSS after the last task's message was deleted. */
  readonly rssMb: number;
  /** VmHWM: the peak over the process's life. */
  readonly peakRssMb: number;
}

export interface MemoryResult {
  readonly csv: CsvMemory | { readonly error: string };
  readonly cloud: CloudMemory;
  /** VmHWM of the process that creates PGlite's data directory, sampled until it exits. */
  readonly initdbPeakRssMb?: number;
}

export async function measure(options: MemoryOptions, progress: Progress): Promise<MemoryResult> {
  progress('CSV clean-up', 0, 1);
  const csv = await csvMemory(options.csvMegabytes);
  progress('CSV clean-up', 1, 1);
  const cloud = await cloudMemory(options.cloudTasks, progress);
  return { csv, cloud, initdbPeakRssMb: await initdbPeak() };
}

async function csvMemory(megabytes: number): Promise<MemoryResult['csv']> {
  const child = spawn(process.execPath, ['test/bench/csv-memory.ts', '--mb', String(megabytes), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  const last = stdout.trim().split('\n').at(-1) ?? '';
  if (code !== 0 || !last.startsWith('{')) return { error: `csv-memory exited ${code}: ${stderr.trim().split('\n').slice(-3).join(' ')}` };
  return { megabytes, ...(JSON.parse(last) as Omit<CsvMemory, 'megabytes'>) };
}

/** VmRSS and VmHWM of a process, in MiB. */
function memoryOf(pid: number): { rssMb: number; peakRssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMb: kib('VmRSS') / 1024, peakRssMb: kib('VmHWM') / 1024 };
}

async function cloudMemory(tasks: number, progress: Progress): Promise<CloudMemory> {
  // `npm start` as shipped: the embedded emulator and PGlite.
  const spawned = performance.now();
  const cloud = await startLocalCloudProcess({ DATABASE_URL: undefined, DB_SCHEMA: undefined, AWS_ENDPOINT_URL: undefined });
  const readySeconds = (performance.now() - spawned) / 1000;
  try {
    const queueUrl = cloud.queueUrl('default');
    const readyRssMb = memoryOf(cloud.pid).rssMb;
    const sqs = emulatorClient(cloud.endpoint);
    const producer = new TaskProducer({ longDelays: null, sqs, queueUrls: { default: queueUrl } });
    const started = performance.now();
    await feedNoopTasks(producer, () => queueDepth(sqs, queueUrl), tasks, (completed) => progress('local cloud', completed, tasks));
    const seconds = (performance.now() - started) / 1000;
    sqs.destroy();
    return { tasks, seconds, readySeconds, readyRssMb, ...memoryOf(cloud.pid) };
  } finally {
    await cloud.cleanUp();
  }
}

/**
 * Sends `tasks` default.noop tasks in batches of 500, at most 2,000 waiting at a time, until
 * the queue has taken them all: the figure is then the run's, not a backlog's.
 */
export async function feedNoopTasks(producer: TaskProducer, depth: () => Promise<number>, tasks: number, onProgress: (completed: number) => void): Promise<void> {
  let sent = 0;
  let completed = 0;
  while (completed < tasks) {
    if (sent < tasks && sent - completed < 2_000) {
      const size = Math.min(500, tasks - sent);
      await producer.sendBatch(Array.from({ length: size }, () => ({ task: 'default.noop', payload: { echo: 'bench' } })));
      sent += size;
    } else {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    completed = sent - (await depth());
    onProgress(completed);
  }
}

/** The data directory's creation as the local cloud runs it, its VmHWM read every 50 ms until it exits. */
async function initdbPeak(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'taskq-initdb-'));
  try {
    const child = spawn(process.execPath, ['--liftoff-only', 'shared/results/pglite-initdb.ts', join(dir, 'pglite')], { stdio: 'ignore' });
    const exited = once(child, 'exit');
    let peak = 0;
    const sample = setInterval(() => {
      try {
        peak = Math.max(peak, memoryOf(child.pid!).peakRssMb);
      } catch {
        // Gone between two samples.
      }
    }, 50);
    await exited;
    clearInterval(sample);
    return peak;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Issue 14's targets for `npm start` on PGlite; the peak's is over 10,000 tasks. */
export const cloudTargets = { readyRssMb: 300, peakRssMb: 450, readySeconds: 5 } as const;

export function memoryFigures(result: MemoryResult): Figure[] {
  const part = 'memory';
  const { csv, cloud } = result;
  const tasks = cloud.tasks.toLocaleString('en-US');
  const csvFigures: Figure[] = 'error' in csv
    ? []
    : [
        { part, name: `CSV clean-up of ${csv.megabytes} MB (${csv.rows.toLocaleString('en-US')} rows): peak RSS`, value: csv.peakRssMb, unit: 'MiB', target: { at: 'most', value: 512 } },
        { part, name: 'CSV clean-up: RSS before the task', value: csv.baselineRssMb, unit: 'MiB' },
        { part, name: 'CSV clean-up: time', value: csv.seconds, unit: 's', digits: 1 },
      ];
  return [
    ...csvFigures,
    { part, name: 'local cloud (PGlite): RSS when ready', value: cloud.readyRssMb, unit: 'MiB', target: { at: 'most', value: cloudTargets.readyRssMb } },
    { part, name: 'local cloud: ready on a fresh PGlite', value: cloud.readySeconds, unit: 's', digits: 1, target: { at: 'most', value: cloudTargets.readySeconds } },
    { part, name: `local cloud: RSS after ${tasks} tasks (VmRSS)`, value: cloud.rssMb, unit: 'MiB' },
    { part, name: `local cloud: peak RSS over ${tasks} tasks (VmHWM)`, value: cloud.peakRssMb, unit: 'MiB', target: { at: 'most', value: cloudTargets.peakRssMb } },
    { part, name: `local cloud: ${tasks} tasks`, value: cloud.tasks / cloud.seconds, unit: 'tasks/s' },
    ...(result.initdbPeakRssMb ? [{ part, unit: 'MiB', name: 'local cloud: initdb of a fresh PGlite, its own process (VmHWM)', value: result.initdbPeakRssMb } satisfies Figure] : []),
  ];
}
