import { createHash } from 'node:crypto';
import { DigestSet } from './digest-set.ts';

export type ColumnType = 'integer' | 'number' | 'boolean' | 'date' | 'string' | 'empty';

export interface CleaningReport {
  readonly columns: readonly { readonly name: string; readonly original: string; readonly type: ColumnType; readonly nulls: number }[];
  readonly rowsIn: number;
  readonly rowsOut: number;
  readonly duplicates: number;
  readonly invalid: number;
  /** The first invalid rows, with their line and why. */
  readonly invalidRows: readonly { readonly line: number; readonly reason: string }[];
}

const maxReportedInvalidRows = 100;
const checks: [Exclude<ColumnType, 'string' | 'empty'>, (value: string) => boolean][] = [
  ['integer', (v) => /^[+-]?\d{1,15}$/.test(v)],
  ['number', (v) => /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v)],
  ['boolean', (v) => /^(true|false|yes|no)$/i.test(v)],
  ['date', (v) => /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v) && !Number.isNaN(Date.parse(v))],
];

/**
 * Cleans a table one row at a time, in bounded memory: header names normalised, values
 * trimmed, empty cells null, exact duplicate rows dropped (kept as 16-byte digests),
 * rows of the wrong width reported with their line, and each column's type inferred.
 */
export class TableCleaner {
  #original: string[] = [];
  #columns: string[] = [];
  #possible: Set<string>[] = [];
  #nulls: number[] = [];
  #seen = new DigestSet();
  #rowsIn = 0;
  #rowsOut = 0;
  #duplicates = 0;
  #invalid = 0;
  #invalidRows: { line: number; reason: string }[] = [];

  /** Takes the header row; returns the normalised column names. */
  header(raw: readonly unknown[]): string[] {
    this.#original = raw.map((value) => String(value ?? '').trim());
    const used = new Set<string>();
    this.#columns = this.#original.map((name, index) => {
      const base = name.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '') || `column_${index + 1}`;
      let unique = base;
      for (let n = 2; used.has(unique); n++) unique = `${base}_${n}`;
      used.add(unique);
      return unique;
    });
    if (this.#columns.length === 0) throw new Error('the file has no header row');
    this.#possible = this.#columns.map(() => new Set(checks.map(([type]) => type)));
    this.#nulls = this.#columns.map(() => 0);
    return this.#columns;
  }

  /** Takes one data row; returns it cleaned, or undefined when it is a duplicate or invalid. */
  row(raw: readonly unknown[], line: number): (string | null)[] | undefined {
    this.#rowsIn++;
    if (raw.length !== this.#columns.length) {
      if (raw.every((value) => String(value ?? '').trim() === '')) {
        this.#rowsIn--;
        return undefined; // a blank line is not a row
      }
      this.#invalid++;
      if (this.#invalidRows.length < maxReportedInvalidRows) this.#invalidRows.push({ line, reason: `expected ${this.#columns.length} fields, found ${raw.length}` });
      return undefined;
    }
    const cleaned = raw.map((value) => {
      const text = value instanceof Date ? value.toISOString() : String(value ?? '').trim();
      return text === '' ? null : text;
    });
    // 128 bits of SHA-1: a false duplicate among a billion rows has odds below 1 in 10^20.
    if (!this.#seen.add(createHash('sha1').update(JSON.stringify(cleaned)).digest())) {
      this.#duplicates++;
      return undefined;
    }
    cleaned.forEach((value, column) => {
      if (value === null) {
        this.#nulls[column]!++;
        return;
      }
      const possible = this.#possible[column]!;
      for (const [type, check] of checks) if (possible.has(type) && !check(value)) possible.delete(type);
    });
    this.#rowsOut++;
    return cleaned;
  }

  report(): CleaningReport {
    return {
      columns: this.#columns.map((name, column) => ({
        name,
        original: this.#original[column]!,
        type: this.#nulls[column] === this.#rowsOut ? 'empty' : (checks.find(([type]) => this.#possible[column]!.has(type))?.[0] ?? 'string'),
        nulls: this.#nulls[column]!,
      })),
      rowsIn: this.#rowsIn,
      rowsOut: this.#rowsOut,
      duplicates: this.#duplicates,
      invalid: this.#invalid,
      invalidRows: this.#invalidRows,
    };
  }
}
