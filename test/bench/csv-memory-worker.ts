/**
 * The measured side of csv-memory.ts: runs the real task once on the uploaded CSV and
 * reports its peak RSS. The result store is PostgreSQL, as in Lambda (Aurora through the
 * Data API), not the embedded PGlite whose WebAssembly heap would dwarf the figure.
 */
import { sql } from 'drizzle-orm';
import { newEnvelope } from '../../shared/envelope/envelope.ts';
import { createLogger } from '../../shared/observability/index.ts';
import { migrateDatabase, openDatabase } from '../../shared/results/database.ts';
import { dataServices } from '../../shared/data/service.ts';
import { processFileUpload } from '../../shared/tasks/data.ts';

const endpoint = process.env.BENCH_ENDPOINT!;
const database = await openDatabase({ kind: 'postgres', url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', schema: `bench_${Date.now()}` });
await migrateDatabase(database);
await database.rows(sql`insert into uploads (id, user_id, key, filename) values ('big', 1, 'uploads/1/big.csv', 'big.csv')`);
globalThis.gc?.();
const baselineRssMb = process.memoryUsage.rss() / 1048576;
let peak = baselineRssMb;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss() / 1048576)), 20);
const started = performance.now();
const envelope = newEnvelope('data.process_file_upload', { uploadId: 'big' });
await processFileUpload.run({ uploadId: 'big' }, {
  id: envelope.id, name: envelope.task, queue: 'data', attempt: 1, maxRetries: 5, signal: new AbortController().signal,
  logger: createLogger('data'), envelope, database, services: dataServices({ FILES_BUCKET: 'bench', AWS_ENDPOINT_URL: endpoint }),
});
const seconds = (performance.now() - started) / 1000;
clearInterval(sampler);
if (database.schema !== 'public') await database.db.execute(sql.raw(`drop schema ${database.schema} cascade`));
await database.close();
console.log(JSON.stringify({ seconds, peakRssMb: Math.max(peak, process.memoryUsage.rss() / 1048576), baselineRssMb }));
process.exit(0);
