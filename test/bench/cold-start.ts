/**
 * Cold start: each function bundle's size and its module-initialisation time in a fresh
 * Node 24 process, beside a bare `node -e ''` in the same run (infra/bundle-report.ts does
 * the measuring). The bundles are `npm run synth`'s when cdk.out has them, else the
 * functions/ entries bundled here with the stack's esbuild settings.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { bundlesOfAssembly, measureBundles, type Bundle, type BundleReport } from '../../infra/bundle-report.ts';
import { lambdaDefaults } from '../../infra/constructs/bundling.ts';
import type { Figure, Progress } from './figures.ts';

export interface ColdStartOptions {
  /** Fresh processes per bundle; the best is kept. @default 3 */
  readonly runs?: number;
  /** @default 'cdk.out' */
  readonly assembly?: string;
}

export interface ColdStartResult extends BundleReport {
  /** Where the bundles came from: the cloud assembly (with its time) or esbuild here. */
  readonly source: { readonly kind: 'cdk.out'; readonly synthesizedAt: string } | { readonly kind: 'esbuild' };
}

export async function measure(options: ColdStartOptions, progress: Progress): Promise<ColdStartResult> {
  const assembly = options.assembly ?? 'cdk.out';
  const fromAssembly = existsSync(assembly) ? bundlesOfAssembly(assembly) : [];
  const bundles = fromAssembly.length > 0 ? fromAssembly : await bundleFunctions();
  const source = fromAssembly.length > 0
    ? { kind: 'cdk.out' as const, synthesizedAt: new Date(statSync(join(assembly, 'manifest.json')).mtimeMs).toISOString() }
    : { kind: 'esbuild' as const };
  const report = measureBundles(bundles, options.runs ?? 3, (done, total) => progress('cold start', done, total));
  return { ...report, source };
}

/** The functions/ entries as NodejsFunction bundles them: one minified ESM file each, with source maps. */
async function bundleFunctions(): Promise<Bundle[]> {
  const bundling = lambdaDefaults().bundling!;
  const bundles: Bundle[] = [];
  for (const entry of readdirSync('functions').filter((file) => file.endsWith('.ts'))) {
    const name = entry.replace(/\.ts$/, '');
    // Inside the project, as csv-memory's worker: the drivers the stack leaves out still resolve.
    const path = join('node_modules', '.cache', 'taskq-bench', 'functions', name, 'index.mjs');
    await build({
      entryPoints: [join('functions', entry)],
      outfile: path,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: bundling.target ?? 'node24',
      minify: bundling.minify ?? true,
      sourcemap: bundling.sourceMap ?? true,
      sourcesContent: bundling.sourcesContent ?? false,
      external: [...(bundling.externalModules ?? [])],
      banner: { js: bundling.banner ?? '' },
      mainFields: [...(bundling.mainFields ?? ['module', 'main'])],
      logLevel: 'warning',
    });
    bundles.push({ stack: 'esbuild', name, path });
  }
  return bundles;
}

export function coldStartFigures(run: ColdStartResult): Figure[] {
  const part = 'cold-start';
  return [
    { part, name: "bare node -e ''", value: run.baselineMs, unit: 'ms' },
    ...run.bundles.flatMap((bundle): Figure[] => [
      { part, name: `${bundle.name}: bundle`, value: bundle.bytes / 1024, unit: 'KiB' },
      { part, name: `${bundle.name}: init`, value: bundle.initMs, unit: 'ms' },
    ]),
  ];
}
