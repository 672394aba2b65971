import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { databaseKind, openTestDatabase } from '../support/database.ts';

it(`refuses a second text under a prepared statement's name, which would run with the wrong parameters (${databaseKind})`, async () => {
  const db = await openTestDatabase();
  try {
    expect(await db.database.rows<{ n: number }>(sql`select ${1}::int as n`, 'one_number')).toEqual([{ n: 1 }]);
    expect(await db.database.rows<{ n: number }>(sql`select ${2}::int as n`, 'one_number')).toEqual([{ n: 2 }]);
    await expect(db.database.rows(sql`select ${1}::int as n, ${2}::int as m`, 'one_number')).rejects.toThrow(/statement one_number was prepared with another text/);
  } finally {
    await db.close();
  }
});
