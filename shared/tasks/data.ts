import { pipeline } from 'node:stream/promises';
import { sql } from 'drizzle-orm';
import { tasks } from '../catalogue/index.ts';
import { TableCleaner } from '../data/clean.ts';
import { PermanentError } from '../errors.ts';
import type { DataServices } from '../data/service.ts';
import { implementWith } from '../runtime/task.ts';

const implementData = implementWith<DataServices>();

/** The CSV and XLSX readers and writers: loaded by the first file task, as the files bucket's client is, never at init. */
const formats = () => import('../data/formats.ts');

/** Key prefixes of the files bucket (the stack expires `tmp/`). */
export const prefixes = { cleaned: 'cleaned/', reports: 'reports/', exports: 'exports/', temporary: 'tmp/' } as const;

/** Cleans an uploaded CSV or XLSX file as a stream: a cleaned CSV and a JSON report back to S3, a summary row in PostgreSQL. */
export const processFileUpload = implementData(tasks['data.process_file_upload'], async ({ uploadId }, { database, services }) => {
  const [found] = await database.rows<{ user_id: number; key: string; status: string }>(sql`select user_id, key, status from uploads where id = ${uploadId}`);
  if (!found) throw new PermanentError(`no upload ${uploadId}`);
  const [files, { rowsOf, stringify, malformedReason }] = await Promise.all([services.files(), formats()]);
  const source = await files.read(found.key);
  if (!source) throw new PermanentError(`upload ${uploadId} has no file at ${found.key}`);
  const cleaner = new TableCleaner();
  const cleanedKey = `${prefixes.cleaned}${found.user_id}/${uploadId}.csv`;
  const cleaned = files.write(cleanedKey, 'text/csv');
  const csv = stringify();
  const writing = pipeline(csv, cleaned.body);
  // Awaited below on success; on failure they reject as the streams are torn down, and that is expected.
  writing.catch(() => undefined);
  cleaned.done.catch(() => undefined);
  try {
    let header = true;
    for await (const { values, line } of rowsOf(found.key, source)) {
      if (header) {
        header = false;
        csv.write(cleaner.header(values));
        continue;
      }
      const row = cleaner.row(values, line);
      if (row && !csv.write(row)) await new Promise((resolve) => csv.once('drain', resolve));
    }
    if (header) throw new PermanentError(`upload ${uploadId} is empty`);
    csv.end();
    await writing;
    await cleaned.done;
  } catch (error) {
    csv.destroy();
    cleaned.body.destroy();
    source.destroy();
    const reason = malformedReason(error);
    if (reason) {
      await database.rows(sql`update uploads set status = 'failed', error = ${reason}, processed_at = now() where id = ${uploadId}`);
      throw new PermanentError(reason, { cause: error });
    }
    throw error;
  }
  const report = cleaner.report();
  const reportKey = `${prefixes.reports}${found.user_id}/${uploadId}.json`;
  const reportUpload = files.write(reportKey, 'application/json');
  reportUpload.body.end(JSON.stringify({ uploadId, ...report }, null, 2));
  await reportUpload.done;
  await database.rows(sql`
    update uploads set status = 'processed', rows_in = ${report.rowsIn}::int, rows_out = ${report.rowsOut}::int, rows_invalid = ${report.invalid}::int,
      duplicates = ${report.duplicates}::int, cleaned_key = ${cleanedKey}, report_key = ${reportKey}, error = null, processed_at = now()
    where id = ${uploadId}`);
  return { uploadId, cleanedKey, reportKey, rowsIn: report.rowsIn, rowsOut: report.rowsOut, duplicates: report.duplicates, invalid: report.invalid };
});

const exportPageSize = 1000;

/** Exports one user's AI requests, page by page, streamed to S3; stores a presigned link. */
export const exportData = implementData(tasks['data.export_data'], async ({ userId, format }, { id, database, services }) => {
  const [files, { exportFormats, exportWriter }] = await Promise.all([services.files(), formats()]);
  const key = `${prefixes.exports}${userId}/${id}.${format}`;
  const target = files.write(key, exportFormats[format]);
  const columns = ['task_id', 'created_at', 'model', 'prompt', 'answer', 'prompt_tokens', 'completion_tokens', 'total_tokens'] as const;
  type Row = Record<(typeof columns)[number], string | number | null>;
  const { writeRow, finish } = exportWriter<Row>(format, target.body, { name: 'ai_requests', columns });
  let rows = 0;
  let after: { createdAt: string; taskId: string } | undefined;
  for (;;) {
    // Keyset pagination: every page is one small statement, over the Data API too.
    const page = await database.rows<Row & { cursor: string }>(sql`
      select task_id, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as created_at, model, prompt, answer,
        prompt_tokens, completion_tokens, total_tokens, created_at::text as cursor
      from ai_requests
      where user_id = ${userId}::int ${after ? sql`and (created_at, task_id) > (${after.createdAt}::timestamptz, ${after.taskId})` : sql``}
      order by created_at, task_id limit ${exportPageSize}::int`);
    for (const { cursor: _cursor, ...row } of page) await writeRow(row);
    rows += page.length;
    if (page.length < exportPageSize) break;
    const last = page.at(-1)!;
    after = { createdAt: last.cursor, taskId: String(last.task_id) };
  }
  await finish();
  await target.done;
  const ttl = services.exportUrlTtlSeconds;
  const url = await files.link(key, ttl);
  await database.rows(sql`
    insert into exports (task_id, user_id, format, key, url, url_expires_at, rows)
    values (${id}, ${userId}::int, ${format}, ${key}, ${url}, now() + ${ttl}::int * interval '1 second', ${rows}::int)
    on conflict (task_id) do update set url = excluded.url, url_expires_at = excluded.url_expires_at, rows = excluded.rows`);
  return { key, url, rows, expiresInSeconds: ttl };
});

/** Deletes temporary objects older than the configured age, in batches of 1000, and expired uploads. */
export const cleanupTempFiles = implementData(tasks['data.cleanup_temp_files'], async (_payload, { database, services }) => {
  const files = await services.files();
  const deleted = await files.deleteOlderThan(prefixes.temporary, Date.now() - services.tempFileMaxAgeHours * 3_600_000);
  const expired = await database.rows<{ n: number }>(sql`
    with gone as (delete from uploads where expires_at < now() returning 1) select count(*)::int as n from gone`);
  return { deletedObjects: deleted, expiredUploads: Number(expired[0]?.n ?? 0) };
});

/** The `data` queue's tasks. */
export const dataTasks = [processFileUpload, exportData, cleanupTempFiles];
