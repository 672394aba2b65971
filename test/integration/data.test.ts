import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { sql } from 'drizzle-orm';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataTasks } from '../../shared/tasks/data.ts';
import { dataServices } from '../../shared/data/service.ts';
import { envelope, sendBodies } from '../support/consumer.ts';
import { databaseKind } from '../support/database.ts';
import { taskSuite } from '../support/task-suite.ts';

describe(`data tasks on the S3 emulator (${databaseKind})`, () => {
  let s3: S3Client;
  const bucket = 'test-files';
  const { suite, start, finished } = taskSuite({
    queueName: 'data',
    implementations: dataTasks,
    services: dataServices,
    env: (): Record<string, string> => ({ FILES_BUCKET: bucket, AWS_ENDPOINT_URL: suite.emulator.endpoint }),
    startConsumer: false,
  });
  beforeAll(async () => {
    s3 = new S3Client({ endpoint: suite.emulator.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  afterAll(() => s3.destroy());

  const text = async (key: string) => (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
  const uploadFile = async (id: string, key: string, body: string | Buffer) => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    await suite.db.database.rows(sql`insert into uploads (id, user_id, key, filename) values (${id}, 7, ${key}, ${key.split('/').pop()!})`);
  };

  it('cleans an uploaded CSV: headers, trimming, nulls, duplicates, invalid rows, types; writes the file, the report and the summary', async () => {
    const csv = ['Name , E-mail,Age', ' Ada ,ada@example.com,36', 'Ada,ada@example.com,36', 'Bob,,41', 'only,two', '"Eve, Jr.",eve@example.com,'].join('\n');
    await uploadFile('up-1', 'uploads/7/customers.csv', `\uFEFF${csv}\n`);
    start();
    const task = envelope('app.tasks.data_tasks.process_file_upload', { uploadId: 'up-1' });
    await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(task)]);

    const row = await finished(task.id);

    expect(JSON.parse(row.result!)).toEqual({ uploadId: 'up-1', cleanedKey: 'cleaned/7/up-1.csv', reportKey: 'reports/7/up-1.json', rowsIn: 5, rowsOut: 3, duplicates: 1, invalid: 1 });
    expect(await text('cleaned/7/up-1.csv')).toBe('name,e_mail,age\nAda,ada@example.com,36\nBob,,41\n"Eve, Jr.",eve@example.com,\n');
    const report = JSON.parse(await text('reports/7/up-1.json'));
    expect(report.invalidRows).toEqual([{ line: 5, reason: 'expected 3 fields, found 2' }]);
    expect(report.columns.map((c: { name: string; type: string }) => [c.name, c.type])).toEqual([['name', 'string'], ['e_mail', 'string'], ['age', 'integer']]);
    expect(await suite.db.database.rows(sql`select status, rows_in, rows_out, rows_invalid, duplicates from uploads where id = 'up-1'`)).toEqual([{ status: 'processed', rows_in: 5, rows_out: 3, rows_invalid: 1, duplicates: 1 }]);
  });

  it('cleans an Excel workbook the same way', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('customers');
    sheet.addRows([['Name', 'Joined'], ['Ada', '2026-01-02'], ['Ada', '2026-01-02'], ['Bob', '2026-02-03']]);
    await uploadFile('up-2', 'uploads/7/customers.xlsx', Buffer.from(await workbook.xlsx.writeBuffer()));
    start();
    const task = envelope('data.process_file_upload', { uploadId: 'up-2' });
    await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(task)]);

    expect(JSON.parse((await finished(task.id)).result!)).toMatchObject({ rowsIn: 3, rowsOut: 2, duplicates: 1 });
    expect(await text('cleaned/7/up-2.csv')).toBe('name,joined\nAda,2026-01-02\nBob,2026-02-03\n');
  });

  it('fails a malformed file at once with a useful message', async () => {
    await uploadFile('up-3', 'uploads/7/broken.csv', 'a,b\n"unclosed,2\n');
    await uploadFile('up-4', 'uploads/7/broken.xlsx', 'not a zip at all');
    start();
    const csv = envelope('data.process_file_upload', { uploadId: 'up-3' });
    const xlsx = envelope('data.process_file_upload', { uploadId: 'up-4' });
    await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(csv), JSON.stringify(xlsx)]);

    const csvRow = await finished(csv.id, 'FAILURE');
    expect(csvRow.attempts).toBe(1);
    expect(csvRow.error).toMatch(/^PermanentError: malformed CSV: .*quote/i);
    expect((await finished(xlsx.id, 'FAILURE')).error).toMatch(/^PermanentError: malformed XLSX/);
    expect(await suite.db.database.rows(sql`select id, status from uploads where id in ('up-3', 'up-4') order by id`)).toEqual([{ id: 'up-3', status: 'failed' }, { id: 'up-4', status: 'failed' }]);
  });

  it.each(['csv', 'json', 'xlsx'] as const)('exports only that user’s data as %s behind a presigned link', async (format) => {
    await suite.db.database.rows(sql`insert into ai_requests (task_id, user_id, model, prompt, answer, total_tokens) values ('t-1', 7, 'm', 'mine, "quoted"', 'a1', 3), ('t-2', 7, 'm', 'mine too', 'a2', 4), ('t-3', 8, 'm', 'not mine', 'a3', 5)`);
    start({ EXPORT_URL_TTL_SECONDS: '600' });
    const task = envelope('data.export_data', { userId: 7, format });
    await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(task)]);

    const result = JSON.parse((await finished(task.id)).result!) as { key: string; url: string; rows: number };
    expect(result).toMatchObject({ key: `exports/7/${task.id}.${format}`, rows: 2, expiresInSeconds: 600 });
    expect(result.url).toContain('X-Amz-Expires=600');
    const body = Buffer.from(await (await fetch(result.url)).arrayBuffer());
    if (format === 'csv') expect(body.toString()).toMatch(/^task_id,created_at,model,prompt,answer,prompt_tokens,completion_tokens,total_tokens\nt-1,.*,m,"mine, ""quoted""",a1,0,0,3\nt-2,/);
    if (format === 'json') expect((JSON.parse(body.toString()) as { task_id: string }[]).map((r) => r.task_id)).toEqual(['t-1', 't-2']);
    if (format === 'xlsx') {
      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.load(body as never);
      expect(workbook.worksheets[0]!.getColumn(1).values.slice(1)).toEqual(['task_id', 't-1', 't-2']);
    }
    expect(body.toString('latin1')).not.toContain('not mine');
  });

  it('deletes old temporary files and expired uploads, and nothing else', async () => {
    for (let i = 0; i < 25; i++) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `tmp/${i}.part`, Body: 'x' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'uploads/7/keep.csv', Body: 'x' }));
    await suite.db.database.rows(sql`insert into uploads (id, user_id, key, filename, expires_at) values ('old', 7, 'k', 'f', now() - interval '1 day'), ('new', 7, 'k', 'f', now() + interval '1 day')`);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    start({ TEMP_FILE_MAX_AGE_HOURS: '0' });
    const tasks = [envelope('data.cleanup_temp_files', {}), envelope('data.cleanup_temp_files', {})];
    await sendBodies(suite.emulator.sqs, suite.queue.url, tasks.map((task) => JSON.stringify(task)));

    await Promise.all(tasks.map((task) => finished(task.id)));

    const left = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect((left.Contents ?? []).map((o) => o.Key).filter((key) => key!.startsWith('tmp/'))).toEqual([]);
    expect((left.Contents ?? []).map((o) => o.Key)).toContain('uploads/7/keep.csv');
    expect(await suite.db.database.rows(sql`select id from uploads order by id`)).toEqual([{ id: 'new' }]);
  });
});
