import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { migrationsFolder } from '../../shared/results/database.ts';

it('keeps migrations free of schema names, so a stack or a test can run them in a schema of its own', async () => {
  for (const file of (await readdir(migrationsFolder)).filter((f) => f.endsWith('.sql'))) {
    expect(await readFile(join(migrationsFolder, file), 'utf8'), file).not.toMatch(/"public"\./);
  }
});
