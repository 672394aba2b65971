import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { parse, CsvError } from 'csv-parse';
import { stringify } from 'csv-stringify';
import { sql } from 'drizzle-orm';
import ExcelJS from 'exceljs';
import { tasks } from '../catalogue/index.ts';
import { TableCleaner } from '../data/clean.ts';
import { PermanentError } from '../errors.ts';
import type { DataServices } from '../data/service.ts';
import { implementWith } from '../runtime/task.ts';

const implementData = implementWith<DataServices>();

/** Key prefixes of the files bucket (the stack expires `tmp/`). */
export const prefixes = { cleaned: 'cleaned/', reports: 'reports/', exports: 'exports/', temporary: 'tmp/' } as const;

/** Streams an object to S3 as it is produced (multipart), so a large file never sits in memory. */
function upload(s3: S3Client, bucket: string, key: string, contentType: string) {
  const body = new PassThrough();
  const done = new Upload({ client: s3, params: { Bucket: bucket, Key: key, Body: body, ContentType: contentType }, queueSize: 2, partSize: 8 * 1024 * 1024 }).done();
  return { body, done };
}

/** An XLSX is a zip: anything else is refused before the workbook reader sees it. */
async function asZip(source: Readable): Promise<Readable> {
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await iterator.next();
  const head = first.done ? Buffer.alloc(0) : Buffer.from(first.value);
  if (!head.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) throw new PermanentError('malformed XLSX: the file is not an XLSX workbook (no zip header)');
  return Readable.from((async function* () {
    yield head;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  })());
}

async function* rowsOf(key: string, source: Readable): AsyncGenerator<{ values: unknown[]; line: number }> {
  if (/\.xlsx$/i.test(key)) {
    const reader = new ExcelJS.stream.xlsx.WorkbookReader(await asZip(source), { worksheets: 'emit', sharedStrings: 'cache', hyperlinks: 'ignore', styles: 'ignore', entries: 'ignore' });
    for await (const worksheet of reader) {
      for await (const row of worksheet as AsyncIterable<ExcelJS.Row>) {
        const values = (row.values as unknown[]).slice(1).map((cell) => (cell && typeof cell === 'object' && 'text' in cell ? (cell as { text: unknown }).text : (cell && typeof cell === 'object' && 'result' in cell ? (cell as { result: unknown }).result : cell)));
        yield { values, line: row.number };
      }
      return; // the first worksheet only
    }
    return;
  }
  if (!/\.csv$/i.test(key)) throw new PermanentError(`unsupported file type: ${key} (CSV or XLSX)`);
  const parser = source.pipe(parse({ relax_column_count: true, bom: true, skip_empty_lines: true, info: true }));
  for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) yield { values: record, line: info.lines };
}

/** Cleans an uploaded CSV or XLSX file as a stream: a cleaned CSV and a JSON report back to S3, a summary row in PostgreSQL. */
export const processFileUpload = implementData(tasks['data.process_file_upload'], async ({ uploadId }, { database, services }) => {
  const [found] = await database.rows<{ user_id: number; key: string; status: string }>(sql`select user_id, key, status from uploads where id = ${uploadId}`);
  if (!found) throw new PermanentError(`no upload ${uploadId}`);
  const { s3, bucket } = services.files();
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: found.key })).catch((error: unknown) => {
    if ((error as Error).name === 'NoSuchKey') throw new PermanentError(`upload ${uploadId} has no file at ${found.key}`);
    throw error;
  });
  const cleaner = new TableCleaner();
  const cleanedKey = `${prefixes.cleaned}${found.user_id}/${uploadId}.csv`;
  const cleaned = upload(s3, bucket, cleanedKey, 'text/csv');
  const csv = stringify();
  const writing = pipeline(csv, cleaned.body);
  // Awaited below on success; on failure they reject as the streams are torn down, and that is expected.
  writing.catch(() => undefined);
  cleaned.done.catch(() => undefined);
  try {
    let header = true;
    for await (const { values, line } of rowsOf(found.key, object.Body as Readable)) {
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
    (object.Body as Readable).destroy();
    const reason = error instanceof CsvError ? `malformed CSV: ${error.message}` : error instanceof PermanentError ? error.message : /zip|xlsx|central directory|end of data/i.test(String(error)) ? `malformed XLSX: ${(error as Error).message}` : undefined;
    if (reason) {
      await database.rows(sql`update uploads set status = 'failed', error = ${reason}, processed_at = now() where id = ${uploadId}`);
      throw new PermanentError(reason, { cause: error });
    }
    throw error;
  }
  const report = cleaner.report();
  const reportKey = `${prefixes.reports}${found.user_id}/${uploadId}.json`;
  const reportUpload = upload(s3, bucket, reportKey, 'application/json');
  reportUpload.body.end(JSON.stringify({ uploadId, ...report }, null, 2));
  await reportUpload.done;
  await database.rows(sql`
    update uploads set status = 'processed', rows_in = ${report.rowsIn}::int, rows_out = ${report.rowsOut}::int, rows_invalid = ${report.invalid}::int,
      duplicates = ${report.duplicates}::int, cleaned_key = ${cleanedKey}, report_key = ${reportKey}, error = null, processed_at = now()
    where id = ${uploadId}`);
  return { uploadId, cleanedKey, reportKey, rowsIn: report.rowsIn, rowsOut: report.rowsOut, duplicates: report.duplicates, invalid: report.invalid };
});

const exportPageSize = 1000;
const contentTypes = { csv: 'text/csv', json: 'application/json', xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' } as const;

/** Exports one user's AI requests, page by page, streamed to S3; stores a presigned link. */
export const exportData = implementData(tasks['data.export_data'], async ({ userId, format }, { id, database, services }) => {
  const { s3, bucket } = services.files();
  const key = `${prefixes.exports}${userId}/${id}.${format}`;
  const target = upload(s3, bucket, key, contentTypes[format]);
  const columns = ['task_id', 'created_at', 'model', 'prompt', 'answer', 'prompt_tokens', 'completion_tokens', 'total_tokens'] as const;
  type Row = Record<(typeof columns)[number], string | number | null>;
  let writeRow: (row: Row) => Promise<void>;
  let finish: () => Promise<void>;
  if (format === 'xlsx') {
    const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: target.body, useSharedStrings: false, useStyles: false });
    const sheet = workbook.addWorksheet('ai_requests');
    sheet.columns = columns.map((name) => ({ header: name, key: name }));
    writeRow = async (row) => sheet.addRow(row).commit();
    finish = async () => {
      sheet.commit();
      await workbook.commit();
    };
  } else {
    const out = format === 'csv' ? stringify({ header: true, columns: [...columns] }) : new PassThrough({ objectMode: true });
    const serialised = format === 'csv' ? out : Readable.from((async function* () {
      yield '[';
      let first = true;
      for await (const row of out) {
        yield `${first ? '' : ','}\n${JSON.stringify(row)}`;
        first = false;
      }
      yield '\n]\n';
    })());
    const writing = pipeline(serialised, target.body);
    writeRow = async (row) => {
      if (!out.write(row)) await new Promise((resolve) => out.once('drain', resolve));
    };
    finish = async () => {
      out.end();
      await writing;
    };
  }
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
  const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: ttl });
  await database.rows(sql`
    insert into exports (task_id, user_id, format, key, url, url_expires_at, rows)
    values (${id}, ${userId}::int, ${format}, ${key}, ${url}, now() + ${ttl}::int * interval '1 second', ${rows}::int)
    on conflict (task_id) do update set url = excluded.url, url_expires_at = excluded.url_expires_at, rows = excluded.rows`);
  return { key, url, rows, expiresInSeconds: ttl };
});

/** Deletes temporary objects older than the configured age, in batches of 1000, and expired uploads. */
export const cleanupTempFiles = implementData(tasks['data.cleanup_temp_files'], async (_payload, { database, services }) => {
  const { s3, bucket } = services.files();
  const maxAgeMs = services.tempFileMaxAgeHours * 3_600_000;
  const cutoff = Date.now() - maxAgeMs;
  let deleted = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefixes.temporary, MaxKeys: 1000, ...(token ? { ContinuationToken: token } : {}) }));
    const old = (page.Contents ?? []).filter((object) => object.Key && object.LastModified && object.LastModified.getTime() < cutoff);
    if (old.length > 0) {
      // A concurrent run deleting the same keys is harmless: S3 deletes are idempotent.
      const result = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: old.map((object) => ({ Key: object.Key! })), Quiet: true } }));
      deleted += old.length - (result.Errors?.length ?? 0);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const expired = await database.rows<{ n: number }>(sql`
    with gone as (delete from uploads where expires_at < now() returning 1) select count(*)::int as n from gone`);
  return { deletedObjects: deleted, expiredUploads: Number(expired[0]?.n ?? 0) };
});

/** The `data` queue's tasks. */
export const dataTasks = [processFileUpload, exportData, cleanupTempFiles];
