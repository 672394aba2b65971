/**
 * Cold start: each function bundle's size and its init time, each bundle started as Lambda
 * starts it, from an isolated copy with its template environment only, beside an empty
 * handler in the same run (infra/bundle-report.ts does the measuring). The bundles are
 * `npm run synth`'s when cdk.out has them, else those of a fresh synth of the dev stage.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { bundlesOfAssembly, measureBundles, type BundleReport } from '../../infra/bundle-report.ts';
import { synthesizeStage } from '../rehearsal/assembly.ts';
import type { Figure, Progress } from './figures.ts';

export interface ColdStartOptions {
  /** Fresh execution environments per bundle; the best is kept. @default 3 */
  readonly runs?: number;
  /** @default 'cdk.out' */
  readonly assembly?: string;
}

export interface ColdStartResult extends BundleReport {
  /** The cloud assembly the bundles came from, and when it was synthesized. */
  readonly source: { readonly kind: 'cdk.out'; readonly synthesizedAt: string };
}

export async function measure(options: ColdStartOptions, progress: Progress): Promise<ColdStartResult> {
  const assembly = options.assembly ?? 'cdk.out';
  const fromAssembly = existsSync(assembly) ? bundlesOfAssembly(assembly) : [];
  const synthesized = fromAssembly.length > 0 ? undefined : synthesizeStage('dev');
  try {
    const outdir = synthesized?.outdir ?? assembly;
    const bundles = synthesized ? bundlesOfAssembly(outdir) : fromAssembly;
    const source = { kind: 'cdk.out' as const, synthesizedAt: new Date(statSync(join(outdir, 'manifest.json')).mtimeMs).toISOString() };
    const report = await measureBundles(bundles, options.runs ?? 3, (done, total) => progress('cold start', done, total));
    return { ...report, source };
  } finally {
    synthesized?.remove();
  }
}

export function coldStartFigures(run: ColdStartResult): Figure[] {
  const part = 'cold-start';
  return [
    { part, name: 'empty handler', value: run.baselineMs, unit: 'ms' },
    ...run.bundles.flatMap((bundle): Figure[] => [
      { part, name: `${bundle.name}: loaded at init`, value: bundle.initBytes / 1024, unit: 'KiB' },
      { part, name: `${bundle.name}: all code`, value: bundle.codeBytes / 1024, unit: 'KiB' },
      { part, name: `${bundle.name}: init`, value: bundle.initMs, unit: 'ms' },
    ]),
  ];
}
