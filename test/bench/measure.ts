/**
 * A measurement in a process of its own, started by run.ts: a fresh heap for each part,
 * and the consumers' logs and EMF metrics (stdout, as in Lambda) kept out of the report.
 * Progress and the result go to the parent over IPC.
 * `node test/bench/measure.ts <throughput|latency|cold-start|memory> '<options as JSON>'`
 */
import type { Progress } from './figures.ts';

const measurements = {
  throughput: () => import('./throughput.ts'),
  latency: () => import('./latency.ts'),
  'cold-start': () => import('./cold-start.ts'),
  memory: () => import('./memory.ts'),
} as const;

export type MeasurementName = keyof typeof measurements;

export type ChildMessage =
  | { readonly type: 'progress'; readonly phase: string; readonly done: number; readonly total: number }
  | { readonly type: 'result'; readonly result: unknown }
  | { readonly type: 'error'; readonly message: string };

if (import.meta.main) {
  const [name, options = '{}'] = process.argv.slice(2);
  const send = (message: ChildMessage) => new Promise<void>((resolve) => (process.send ? process.send(message, () => resolve()) : resolve()));
  try {
    if (!(name && name in measurements)) throw new Error(`unknown measurement ${name}`);
    const module = await measurements[name as MeasurementName]();
    let last = 0;
    const progress: Progress = (phase, done, total) => {
      // At most ten messages a second, and always the last one.
      const now = performance.now();
      if (done < total && now - last < 100) return;
      last = now;
      void send({ type: 'progress', phase, done, total });
    };
    const result = await (module.measure as (options: unknown, progress: Progress) => Promise<unknown>)(JSON.parse(options), progress);
    await send({ type: 'result', result });
    process.exit(0);
  } catch (error) {
    await send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    process.exit(1);
  }
}
