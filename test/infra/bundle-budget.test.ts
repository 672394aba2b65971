import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { budgetProblems } from '../../infra/bundle-budget.ts';
import { assetSizes, bundledPackages, initOutputs, metafileFolder, readMetafile } from '../../infra/bundle-metafile.ts';
import { bundleFunction } from '../../infra/constructs/bundling.ts';

/**
 * A real build of test/fixtures/bundle as the stack builds its functions: csv-stringify is
 * imported at the top of the entry, csv-parse only by a module the handler imports dynamically.
 */
describe('a function bundle and its budget', () => {
  let assembly: string;
  let assetDir: string;

  beforeAll(() => {
    assembly = mkdtempSync(join(tmpdir(), 'taskq-budget-'));
    const building = join(assembly, 'bundling-temp-fixture-building');
    bundleFunction('test/fixtures/bundle/entry.ts', building);
    // As CDK does once the output is hashed.
    assetDir = join(assembly, 'asset.fixture');
    renameSync(building, assetDir);
  });
  afterAll(() => rmSync(assembly, { recursive: true, force: true }));

  it('ships only code and source maps without sources; the metafile stays in the assembly, found from the asset', () => {
    const files = readdirSync(assetDir);
    expect(files.every((file) => /\.mjs(\.map)?$/.test(file))).toBe(true);
    expect(files.filter((file) => file.endsWith('.mjs')).length).toBeGreaterThan(1);
    expect(readdirSync(join(assembly, metafileFolder))).toEqual([expect.stringMatching(/^[0-9a-f]{64}\.json$/)]);
    for (const map of files.filter((file) => file.endsWith('.map'))) expect(JSON.parse(readFileSync(join(assetDir, map), 'utf8'))).not.toHaveProperty('sourcesContent');
    expect(Object.keys(readMetafile(assetDir).outputs)).toEqual(expect.arrayContaining(files));
  });

  it('builds the same bytes from the same sources, so the asset hash (its output\'s) holds still', () => {
    const again = join(assembly, 'bundling-temp-again-building');
    bundleFunction('test/fixtures/bundle/entry.ts', again);
    const contents = (dir: string) => Object.fromEntries(readdirSync(dir).map((file) => [file, readFileSync(join(dir, file), 'utf8')]));
    expect(contents(again)).toEqual(contents(assetDir));
    rmSync(again, { recursive: true, force: true });
  });

  it('runs from its folder alone, the chunk the handler imports loaded when it is called', async () => {
    const { handler } = (await import(pathToFileURL(join(assetDir, 'index.mjs')).href)) as { handler: () => Promise<string> };
    expect(await handler()).toBe('a,b\n');
  });

  it('counts at init the entry and its static imports only, and finds packages in every chunk', () => {
    const metafile = readMetafile(assetDir);
    const init = initOutputs(metafile);
    expect(init[0]).toBe('index.mjs');
    expect([...bundledPackages(metafile, init)]).toEqual(['csv-stringify']);
    expect([...bundledPackages(metafile)].sort()).toEqual(['csv-parse', 'csv-stringify']);
    const sizes = assetSizes(assetDir, metafile);
    expect(sizes.initBytes).toBeGreaterThan(0);
    expect(sizes.codeBytes).toBeGreaterThan(sizes.initBytes);
    expect(sizes.assetBytes).toBeGreaterThan(sizes.codeBytes);
  });

  it('refuses a package its queue does not declare, in any chunk, and a first-use package loaded at init', () => {
    const metafile = readMetafile(assetDir);
    const { initBytes } = assetSizes(assetDir, metafile);
    expect(budgetProblems([{ name: 'dev-consumer-default', metafile, initBytes }])).toEqual([
      "dev-consumer-default: carries csv-stringify, which its tasks' services do not declare",
      "dev-consumer-default: carries csv-parse, which its tasks' services do not declare",
      'dev-consumer-default: loads csv-stringify at init; import it dynamically where it is first used',
    ]);
    expect(budgetProblems([{ name: 'prod-consumer-data', metafile, initBytes }])).toEqual([
      'prod-consumer-data: loads csv-stringify at init; import it dynamically where it is first used',
    ]);
  });

  it('refuses the local cloud\'s code, its stand-ins included, in any chunk', () => {
    const metafile = readMetafile(assetDir);
    const chunk = Object.keys(metafile.outputs).find((output) => output !== 'index.mjs' && output.endsWith('.mjs'))!;
    const carrying = { ...metafile, outputs: { ...metafile.outputs, [chunk]: { ...metafile.outputs[chunk]!, inputs: { ...metafile.outputs[chunk]!.inputs, 'shared/local/stand-ins/openai.ts': { bytesInOutput: 100 } } } } };
    expect(budgetProblems([{ name: 'prod-consumer-data', metafile: carrying, initBytes: 1024 }])).toContain('prod-consumer-data: carries shared/local/stand-ins/openai.ts, which only the local cloud runs');
  });

  it('refuses a bundle whose init set outgrows its budget, and one with no budget', () => {
    const metafile = readMetafile(assetDir);
    expect(budgetProblems([
      { name: 'dev-stripe-webhook', metafile, initBytes: 2_000 * 1024 },
      { name: 'dev-consumer-reports', metafile, initBytes: 1024 },
    ])).toEqual([
      'dev-stripe-webhook: 2000 KiB loaded at init, over its budget of 630 KiB',
      'dev-stripe-webhook: carries csv-stringify, which its tasks\' services do not declare',
      'dev-stripe-webhook: carries csv-parse, which its tasks\' services do not declare',
      'dev-stripe-webhook: loads csv-stringify at init; import it dynamically where it is first used',
      'dev-consumer-reports: no budget in infra/bundle-budget.ts',
    ]);
  });
});
