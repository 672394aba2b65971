import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What each function's bundle may hold. Packages used by only some queues may be in those
 * queues' bundles alone (a consumer carries only the SDKs its tasks' services declare), and
 * each bundle stays under its size: both are read from esbuild's metafile, so a new import
 * that drags an SDK or a megabyte into a bundle fails `npm run synth`.
 */
export const budgets: readonly { readonly match: RegExp; readonly maxKiB: number; readonly packages: readonly string[] }[] = [
  { match: /-consumer-default$/, maxKiB: 1_250, packages: [] },
  { match: /-consumer-ai$/, maxKiB: 1_450, packages: ['openai'] },
  { match: /-consumer-billing$/, maxKiB: 1_550, packages: ['stripe'] },
  { match: /-consumer-data$/, maxKiB: 2_450, packages: ['exceljs', 'csv-parse', 'csv-stringify', '@aws-sdk/lib-storage', '@aws-sdk/s3-request-presigner'] },
  { match: /-stripe-webhook$/, maxKiB: 1_100, packages: ['stripe'] },
  { match: /ResultStoreMigrations/, maxKiB: 1_200, packages: [] },
];

/** The packages some bundles may carry and the rest may not. */
const restricted = new Set(budgets.flatMap((budget) => budget.packages));

/** The npm packages a bundle's inputs come from, from its esbuild metafile. */
export function bundledPackages(assetDir: string): Set<string> {
  const metafile = join(assetDir, 'index.meta.json');
  if (!existsSync(metafile)) throw new Error(`${assetDir} has no index.meta.json: the bundling must set metafile`);
  const { inputs } = JSON.parse(readFileSync(metafile, 'utf8')) as { inputs: Record<string, unknown> };
  const packages = new Set<string>();
  for (const input of Object.keys(inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) packages.add(match[1]!);
  }
  return packages;
}

/** Every way a bundle breaks its budget, one line each; empty when all hold. */
export function budgetProblems(bundles: readonly { readonly name: string; readonly assetDir: string; readonly bytes: number }[]): string[] {
  const problems: string[] = [];
  for (const bundle of bundles) {
    const budget = budgets.find((candidate) => candidate.match.test(bundle.name));
    if (!budget) {
      problems.push(`${bundle.name}: no budget in infra/bundle-budget.ts`);
      continue;
    }
    const kib = bundle.bytes / 1024;
    if (kib > budget.maxKiB) problems.push(`${bundle.name}: ${kib.toFixed(0)} KiB, over its budget of ${budget.maxKiB} KiB`);
    for (const name of bundledPackages(bundle.assetDir)) {
      if (restricted.has(name) && !budget.packages.includes(name)) problems.push(`${bundle.name}: carries ${name}, which its tasks' services do not declare`);
    }
  }
  return problems;
}
