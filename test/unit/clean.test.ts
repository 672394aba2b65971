import { describe, expect, it } from 'vitest';
import { TableCleaner } from '../../shared/data/clean.ts';

describe('TableCleaner', () => {
  it('normalises headers, trims, nulls empties, drops duplicates, reports bad rows and infers types', () => {
    const cleaner = new TableCleaner();
    expect(cleaner.header([' Customer Name ', 'E-mail', 'Age', 'age', 'Joined', 'Active', '', 'Score'])).toEqual(['customer_name', 'e_mail', 'age', 'age_2', 'joined', 'active', 'column_7', 'score']);
    const rows = [
      ['  Ada ', 'ada@example.com', '36', '36', '2026-01-02', 'yes', '', '1.5'],
      ['Ada', 'ada@example.com', '36', '36', '2026-01-02', 'yes', '  ', '1.5'],
      ['Bob', '', '41', 'x', '2026-02-03T10:00:00Z', 'no', '', '2'],
      ['short', 'row'],
      ['', '', '', '', '', '', '', ''].slice(0, 2),
    ].map((row, index) => cleaner.row(row, index + 2));

    expect(rows[0]).toEqual(['Ada', 'ada@example.com', '36', '36', '2026-01-02', 'yes', null, '1.5']);
    expect(rows[1]).toBeUndefined();
    expect(rows[2]).toEqual(['Bob', null, '41', 'x', '2026-02-03T10:00:00Z', 'no', null, '2']);
    const report = cleaner.report();
    expect(report).toMatchObject({ rowsIn: 4, rowsOut: 2, duplicates: 1, invalid: 1, invalidRows: [{ line: 5, reason: 'expected 8 fields, found 2' }] });
    expect(Object.fromEntries(report.columns.map((c) => [c.name, c.type]))).toEqual({
      customer_name: 'string', e_mail: 'string', age: 'integer', age_2: 'string', joined: 'date', active: 'boolean', column_7: 'empty', score: 'number',
    });
    expect(report.columns.find((c) => c.name === 'e_mail')).toMatchObject({ original: 'E-mail', nulls: 1 });
  });
});
