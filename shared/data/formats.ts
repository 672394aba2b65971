import { PassThrough, Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse, CsvError } from 'csv-parse';
import { stringify } from 'csv-stringify';
import ExcelJS from 'exceljs';
import { PermanentError } from '../errors.ts';

/**
 * The CSV and XLSX readers and writers of the `data` tasks. Loaded through a dynamic import
 * (shared/tasks/data.ts), so exceljs and the CSV packages are in a chunk of their own, read
 * by the first file task and never at init.
 */
export { stringify };

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

/** The rows of an uploaded CSV, or of an XLSX workbook's first worksheet, with their line numbers. */
export async function* rowsOf(key: string, source: Readable): AsyncGenerator<{ values: unknown[]; line: number }> {
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

/** Why an uploaded file could not be read, for its row; undefined when the failure is not the file's. */
export function malformedReason(error: unknown): string | undefined {
  if (error instanceof CsvError) return `malformed CSV: ${error.message}`;
  if (error instanceof PermanentError) return error.message;
  return /zip|xlsx|central directory|end of data/i.test(String(error)) ? `malformed XLSX: ${(error as Error).message}` : undefined;
}

export const exportFormats = { csv: 'text/csv', json: 'application/json', xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' } as const;

/** Writes a table's rows to `target` as CSV with a header, a JSON array, or an XLSX worksheet; `finish` resolves when all is written. */
export function exportWriter<Row extends Record<string, unknown>>(
  format: keyof typeof exportFormats,
  target: Writable,
  table: { readonly name: string; readonly columns: readonly (keyof Row & string)[] },
): { writeRow(row: Row): Promise<void>; finish(): Promise<void> } {
  const { columns } = table;
  if (format === 'xlsx') {
    const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: target, useSharedStrings: false, useStyles: false });
    const sheet = workbook.addWorksheet(table.name);
    sheet.columns = columns.map((name) => ({ header: name, key: name }));
    return {
      writeRow: async (row) => sheet.addRow(row).commit(),
      finish: async () => {
        sheet.commit();
        await workbook.commit();
      },
    };
  }
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
  const writing = pipeline(serialised, target);
  return {
    writeRow: async (row) => {
      if (!out.write(row)) await new Promise((resolve) => out.once('drain', resolve));
    },
    finish: async () => {
      out.end();
      await writing;
    },
  };
}
