/**
 * Peak memory of `data.process_file_upload` on a large CSV: the file is made and served
 * by an emulator in another process, and the task runs in a process of its own, bundled
 * the way the stack bundles the Lambda functions, so the figure is what Lambda would see.
 * `npm run bench:csv -- --mb 200` (default 200).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { build } from 'esbuild';
import { bundleSettings } from '../../infra/constructs/bundling.ts';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

const { values } = parseArgs({ options: { mb: { type: 'string', default: '200' }, json: { type: 'boolean' } } });
const megabytes = Number(values.mb);
if (!Number.isFinite(megabytes) || megabytes <= 0) {
  console.error('usage: csv-memory [--mb N] [--json]');
  process.exit(2);
}

function child(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
}

/** The first line a child prints; a child that exits before printing one fails the run rather than hanging it. */
async function firstLine(process: ChildProcess): Promise<string> {
  const exited = once(process, 'exit').then(([code, signal]) => Promise.reject(new Error(`${process.spawnargs.slice(1, 2).join(' ')} exited (${signal ?? code}) without a result`)));
  exited.catch(() => undefined);
  const [line] = (await Promise.race([once(createInterface({ input: process.stdout! }), 'line'), exited])) as [string];
  return line;
}

const emulator = child(['--input-type=module', '-e', "const { startFauxqs } = await import('fauxqs'); const s = await startFauxqs({ port: 0, logger: false }); console.log(s.port);"]);
const port = Number(await firstLine(emulator));
try {
  const endpoint = `http://127.0.0.1:${port}`;
  const { bytes, rows } = await uploadCsv(endpoint, megabytes * 1048576);
  const worker = child([await bundleWorker()], { BENCH_ENDPOINT: endpoint });
  const result = { bytes, rows, ...(JSON.parse(await firstLine(worker)) as { seconds: number; peakRssMb: number; baselineRssMb: number }) };
  await once(worker, 'exit');
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log('| file | rows | time | peak RSS (process) | RSS before the task |\n|---|---|---|---|---|');
    console.log(`| ${(result.bytes / 1048576).toFixed(0)} MiB CSV | ${result.rows} | ${result.seconds.toFixed(1)} s | ${result.peakRssMb.toFixed(0)} MiB | ${result.baselineRssMb.toFixed(0)} MiB |`);
  }
} finally {
  emulator.kill();
}

/** Streams a generated customer list of about `targetBytes` into the emulator's bucket. */
async function uploadCsv(endpoint: string, targetBytes: number): Promise<{ bytes: number; rows: number }> {
  const s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
  let bytes = 0;
  let rows = 0;
  const csv = Readable.from((function* () {
    const header = 'Customer ID,Name,E-mail,Signed up,Plan,Monthly spend,Active\n';
    bytes += header.length;
    yield header;
    while (bytes < targetBytes) {
      const lines: string[] = [];
      for (let i = 0; i < 1000; i++, rows++) {
        // Every 50th row repeats an earlier one, so the duplicate check has work to do.
        const n = rows % 50 === 49 ? rows - 7 : rows;
        lines.push(`${n}, Customer ${n} ,customer${n}@example.com,2026-${String((n % 12) + 1).padStart(2, '0')}-15,${['free', 'pro', 'team'][n % 3]},${(n % 997) / 7},${n % 2 ? 'yes' : 'no'}\n`);
      }
      const chunk = lines.join('');
      bytes += chunk.length;
      yield chunk;
    }
  })());
  await new Upload({ client: s3, params: { Bucket: 'bench', Key: 'uploads/1/big.csv', Body: csv } }).done();
  s3.destroy();
  return { bytes, rows };
}

/** The worker as one minified ESM file, with the stack's esbuild settings. */
async function bundleWorker(): Promise<string> {
  // Inside the project, so the drivers the stack leaves out of its bundles (pg) still resolve.
  const outfile = join('node_modules', '.cache', 'taskq-bench', 'worker.mjs');
  await build({
    ...bundleSettings,
    entryPoints: ['test/bench/csv-memory-worker.ts'],
    outfile,
    logLevel: 'warning',
  });
  // As the stack's migration function does: the migrator reads the SQL next to the bundle.
  await cp('shared/results/migrations', join('node_modules', '.cache', 'taskq-bench', 'migrations'), { recursive: true });
  return outfile;
}
