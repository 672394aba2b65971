/**
 * `npm run bench`: end-to-end throughput beside the emulator's floor, latency, round trips,
 * cold start, cost per million tasks and memory. Prints one markdown table (a row per
 * figure, with its target and verdict where it has one) and writes every raw figure and the
 * machine to bench-results/. Each measurement runs in a process of its own (measure.ts).
 * Targets are reported, not enforced: the exit code says whether the harness worked.
 */
import { fork } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { coldStartFigures, type ColdStartResult } from './cold-start.ts';
import { costFigures, costOf } from './cost.ts';
import { markdownTable, partNames, verdict, type Figure, type PartName } from './figures.ts';
import { databaseLabels, type DatabaseKind } from './harness.ts';
import { latencyFigures, type LatencyResult } from './latency.ts';
import { describeMachine, loadAverage } from './machine.ts';
import type { ChildMessage, MeasurementName } from './measure.ts';
import { memoryFigures, type MemoryResult } from './memory.ts';
import { roundTripFigures } from './round-trips.ts';
import { throughputFigures, type ThroughputResult } from './throughput.ts';

const usage = `usage: npm run bench -- [--quick] [-n|--tasks N] [--only PART[,PART…]] [--json]
  --quick        tiny sizes for CI: proves the harness works in about a minute
  -n, --tasks N  tasks in the throughput run (default 10000; 200 with --quick)
  --only PARTS   some of: ${partNames.join(', ')}
  --json         print the JSON written to bench-results/ instead of the table
PostgreSQL runs beside PGlite when DATABASE_URL is set.`;

function fail(message: string): never {
  console.error(`${message}\n${usage}`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      tasks: { type: 'string', short: 'n' },
      only: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (error) {
  fail((error as Error).message);
}
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const tasks = values.tasks === undefined ? (values.quick ? 200 : 10_000) : Number(values.tasks);
if (!Number.isInteger(tasks) || tasks < 10) fail(`--tasks must be a whole number of at least 10, not ${values.tasks}`);
const only = values.only?.split(',').map((name) => name.trim()).filter(Boolean);
const unknown = only?.filter((name) => !(partNames as readonly string[]).includes(name)) ?? [];
if (unknown.length > 0 || only?.length === 0) fail(`unknown part: ${unknown.join(', ') || '(none given)'}`);
const selected = new Set<PartName>((only as PartName[] | undefined) ?? partNames);

const settings = {
  mode: values.quick ? 'quick' : 'full',
  tasks,
  /** Floor-then-consumer rounds in the throughput run; the median is reported. */
  rounds: values.quick ? 1 : 3,
  latency: values.quick ? { rate: 20, seconds: 3 } : { rate: 50, seconds: 20 },
  coldStartRuns: values.quick ? 1 : 3,
  csvMegabytes: values.quick ? 5 : 200,
  /** Issue 14's peak target is over 10,000 tasks. */
  cloudTasks: values.quick ? 1_000 : 10_000,
  databases: ['pglite', ...(process.env.DATABASE_URL ? ['postgres'] : [])] as DatabaseKind[],
};

/** One bar per phase on stderr (cli-progress draws only on a terminal; elsewhere a line per measurement). */
class Progress {
  #bar: cliProgress.SingleBar | undefined;
  #phase = '';

  update(phase: string, done: number, total: number): void {
    if (phase !== this.#phase) {
      this.stop();
      this.#phase = phase;
      this.#bar = new cliProgress.SingleBar({ stream: process.stderr, format: `${phase.padEnd(34)} {bar} {value}/{total} {duration_formatted}`, hideCursor: true }, cliProgress.Presets.shades_classic);
      this.#bar.start(total, done);
    } else {
      this.#bar?.setTotal(total);
      this.#bar?.update(done);
    }
  }

  stop(): void {
    this.#bar?.stop();
    this.#bar = undefined;
    this.#phase = '';
  }
}

const progress = new Progress();

/** Seconds each measurement took, by label. */
const timings: Record<string, number> = {};

function inChild<T>(name: MeasurementName, options: object, label: string): Promise<T> {
  if (!process.stderr.isTTY) console.error(`bench: ${label}`);
  const started = performance.now();
  return new Promise<T>((resolve, reject) => {
    // The measured side's stdout (the consumers' logs and metrics, as in Lambda) is dropped.
    const child = fork(new URL('./measure.ts', import.meta.url), [name, JSON.stringify(options)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    let outcome: { result: T } | { error: string } | undefined;
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'progress') progress.update(message.phase, message.done, message.total);
      else if (message.type === 'result') outcome = { result: message.result as T };
      else outcome = { error: message.message };
    });
    child.on('exit', (code) => {
      progress.stop();
      if (outcome && 'result' in outcome) resolve(outcome.result);
      else reject(new Error(`${label} failed (exit ${code}): ${outcome?.error ?? 'no result'}`));
    });
  }).finally(() => (timings[label] = (performance.now() - started) / 1000));
}

const machine = describeMachine();
const started = performance.now();
const results: {
  throughput: ThroughputResult[];
  latency: LatencyResult[];
  coldStart?: ColdStartResult;
  memory?: MemoryResult;
} = { throughput: [], latency: [] };

try {
  if (selected.has('throughput') || selected.has('round-trips') || selected.has('cost')) {
    for (const database of settings.databases) {
      results.throughput.push(await inChild('throughput', { database, tasks, rounds: settings.rounds }, `throughput on ${databaseLabels[database]}, ${settings.rounds} × ${tasks} tasks`));
    }
  }
  if (selected.has('latency')) {
    for (const database of settings.databases) {
      results.latency.push(await inChild('latency', { database, ...settings.latency }, `latency on ${databaseLabels[database]}`));
    }
  }
  if (selected.has('cold-start')) results.coldStart = await inChild('cold-start', { runs: settings.coldStartRuns }, 'cold start');
  if (selected.has('memory')) results.memory = await inChild('memory', { csvMegabytes: settings.csvMegabytes, cloudTasks: settings.cloudTasks }, 'memory');
} catch (error) {
  progress.stop();
  console.error((error as Error).message);
  process.exit(1);
}

/** The cost comes from the PostgreSQL run when there is one: its handler times are nearer the Data API's. */
const costBasis = results.throughput.find((run) => run.database === 'postgres') ?? results.throughput[0];
const cost = selected.has('cost') && costBasis ? costOf(costBasis) : undefined;
const figures: Figure[] = [
  ...(selected.has('throughput') ? results.throughput.flatMap(throughputFigures) : []),
  ...results.latency.flatMap(latencyFigures),
  ...(selected.has('round-trips') ? results.throughput.flatMap(roundTripFigures) : []),
  ...(results.coldStart ? coldStartFigures(results.coldStart) : []),
  ...(cost ? costFigures(cost) : []),
  ...(results.memory ? memoryFigures(results.memory) : []),
];

const report = {
  machine,
  loadAverageAfter: loadAverage(),
  minutes: (performance.now() - started) / 60_000,
  secondsPerMeasurement: timings,
  settings,
  parts: [...selected],
  figures: figures.map((figure) => ({ ...figure, verdict: verdict(figure) ?? null })),
  results: { ...results, cost },
};
const stamp = machine.date.replaceAll(':', '').replace(/\.\d+Z$/, 'Z');
await mkdir('bench-results', { recursive: true });
const file = join('bench-results', `bench-${settings.mode}-${stamp}.json`);
await writeFile(file, `${JSON.stringify(report, null, 1)}\n`);

if (values.json) {
  console.log(JSON.stringify(report, null, 1));
} else {
  console.log(markdownTable(figures));
  console.log(`\n${notes().map((note) => `- ${note}`).join('\n')}`);
}
process.exit(0);

function notes(): string[] {
  const out = [
    `${machine.cpu}, ${machine.cores} cores, ${(machine.memoryMb / 1024).toFixed(0)} GiB RAM, Node ${machine.node}, ${machine.date.slice(0, 16).replace('T', ' ')} UTC; ` +
      `load average ${machine.loadAverage.map((n) => n.toFixed(2)).join(' ')} before, ${report.loadAverageAfter.map((n) => n.toFixed(2)).join(' ')} after (${report.minutes.toFixed(1)} min, ${settings.mode} run). Raw figures: ${file}.`,
  ];
  const run = results.throughput[0];
  if (run) {
    const s = run.settings;
    out.push(
      `Throughput: ${run.tasks} default.noop tasks sent with SendMessageBatch beforehand, then drained by the real poller and createQueueConsumer('default') with every result recorded; ` +
        `batch ${s.batchSize}, batching window ${s.batchingWindowSeconds} s (a backlog fills each batch at once; the catalogue's 1 s would only hold back the last), ` +
        `concurrency ${s.maxConcurrency}, long poll ${s.waitTimeSeconds} s. The floor: ${s.maxConcurrency} bare ReceiveMessage(10, long poll) → DeleteMessageBatch loops, same emulator and N. ` +
        `The SQS emulator runs in a process of its own; after an untimed warm-up, floor and consumer alternate ${settings.rounds} time(s) and the round with the median ratio is reported (every round is in the JSON).`,
    );
    out.push(
      `CPU per batch of 10 (ms): ${results.throughput.map((r) => `${r.label}: floor ${cpuPerBatch(r.floor.cpuMs, r.tasks)}; consumer ${cpuPerBatch(r.consumer.cpuMs, r.tasks)}`).join(' · ')}.`,
    );
  }
  if (results.latency.length > 0) {
    const s = results.latency[0]!.settings;
    out.push(
      'Latency: from the clock just before SendMessage to the result row\'s date_done (now() of the statement that records SUCCESS, same machine clock), after a 2 s warm-up; ' +
        `catalogue settings: batch ${s.batchSize}, window ${s.batchingWindowSeconds} s, concurrency ${s.maxConcurrency}. ` +
        'The emulator answers every waiting long poll when one message arrives (SQS keeps the others waiting), so receive counts at a low rate are higher than SQS would see; they are in the JSON.',
    );
  }
  if (selected.has('round-trips') && run) {
    out.push('Round trips: SQS requests counted by a middleware on the consumer\'s own SQSClient (each HTTP attempt; the producer has its own client), SQL statements by openDatabase\'s onStatement hook.');
  }
  if (results.coldStart) {
    const source = results.coldStart.source;
    out.push(`Cold start: ${source.kind === 'cdk.out' ? `bundles of the cloud assembly synthesized ${source.synthesizedAt.slice(0, 16).replace('T', ' ')} UTC` : 'functions/ bundled here with the stack\'s esbuild settings'}; time from process start to the module loaded, best of ${results.coldStart.runs}.`);
  }
  if (cost) {
    out.push(
      `Cost: ${cost.counts.invocations} invocations, ${cost.counts.billedMs} billed ms, ${cost.counts.sqsRequests} SQS requests (billed units, producer included), ${cost.counts.statements} statements and ${cost.counts.logBytes} bytes of logs for ${cost.counts.tasks} tasks. ` +
        'Handler times are this machine\'s against a local server: Lambda at 512 MB has about a third of a vCPU and the Data API adds a network round trip per statement, so read the duration line as a lower bound. ' +
        'Aurora Serverless v2 bills ACU-hours while the cluster runs (about $44 a month at 0.5 ACU), whatever the number of tasks.',
    );
  }
  if (results.memory) {
    const { csv } = results.memory;
    out.push(`Memory: ${'error' in csv ? `the CSV clean-up could not run (${csv.error})` : `the CSV clean-up ran bundled, in a process of its own, against PostgreSQL`}; the local cloud ran as npm start does (embedded emulator, PGlite, its Node flags), from a fresh data folder, logging errors only, with at most 2,000 tasks waiting; ready time is from its spawn to its ready line, initdb included.`);
  }
  return out;
}

function cpuPerBatch(cpuMs: Record<string, number>, tasks: number): string {
  return Object.entries(cpuMs).map(([name, ms]) => `${name} ${((ms * 10) / tasks).toFixed(2)}`).join(', ');
}
