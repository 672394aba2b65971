import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { localCloudNodeFlags } from '../../shared/local/node-flags.ts';
import { resolveInModuleScope } from '../../shared/local/module-format.ts';

const require = createRequire(import.meta.url);
/** A module inside drizzle-orm's ESM build, as Node resolved it (symbolic links followed). */
const drizzleDir = realpathSync(new URL('../../node_modules/drizzle-orm', import.meta.url));
const drizzleModule = pathToFileURL(join(drizzleDir, 'pglite/driver.js')).href;

describe('resolveInModuleScope', () => {
  it('resolves a relative import inside an ESM package as Node does: the real path, format module', () => {
    // Act
    const resolved = resolveInModuleScope('../pg-core/dialect.js', drizzleModule);

    // Assess
    expect(resolved).toEqual({ url: pathToFileURL(join(drizzleDir, 'pg-core/dialect.js')).href, format: 'module' });
  });

  it.each([
    ['a bare specifier', 'drizzle-orm', drizzleModule],
    ['a file that does not exist', './missing.js', drizzleModule],
    ['a CommonJS file', './index.cjs', drizzleModule],
    ['an encoded slash', './a%2Fb.js', drizzleModule],
    ['a parent outside node_modules', './cloud.ts', import.meta.url],
    ['a package without "type": "module"', './client.js', pathToFileURL(realpathSync(require.resolve('pg'))).href],
    ['no parent (the entry point)', './start.js', undefined],
  ])('leaves %s to Node', (_case, specifier, parent) => {
    expect(resolveInModuleScope(specifier, parent)).toBeUndefined();
  });

  it('gives a process the same modules as Node does without it, with a fraction of the heap', () => {
    // Prepare: the same imports in two fresh processes, one with the hooks registered first.
    const script = (hooks: boolean) => `
      ${hooks ? `(await import(${JSON.stringify(new URL('../../shared/local/module-format.ts', import.meta.url).href)})).registerModuleFormatCache();` : ''}
      const { drizzle } = await import('drizzle-orm/pglite');
      const { PgDialect } = await import('drizzle-orm/pg-core');
      const db = drizzle.mock();
      console.log(JSON.stringify({ same: db.dialect instanceof PgDialect, heapMb: process.memoryUsage().heapTotal / 1048576 }));`;
    const run = (hooks: boolean) => JSON.parse(spawnSync(process.execPath, ['--input-type=module', '-e', script(hooks)], { encoding: 'utf8' }).stdout) as { same: boolean; heapMb: number };

    // Act
    const [without, withHooks] = [run(false), run(true)];

    // Assess
    expect(without.same).toBe(true);
    expect(withHooks.same).toBe(true);
    expect(withHooks.heapMb).toBeLessThan(without.heapMb / 2);
  });
});

describe('localCloudNodeFlags', () => {
  it('are the flags of npm start', () => {
    const { scripts } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
    expect(scripts.start).toBe(`node ${localCloudNodeFlags.join(' ')} shared/local/start.ts`);
  });
});
