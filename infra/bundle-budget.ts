import type { Metafile } from 'esbuild';
import { bundledPackages, initOutputs } from './bundle-metafile.ts';

export interface Budget {
  readonly match: RegExp;
  /** What Node reads at init (the entry and the chunks it imports statically), in KiB. */
  readonly maxKiB: number;
  /** The restricted packages this bundle may carry, in any chunk. */
  readonly packages: readonly string[];
  /** Of the packages others load on first use, those this bundle loads at init. @default none */
  readonly atInit?: readonly string[];
}

/**
 * What each function's bundle may hold. Packages used by only some queues may be in those
 * queues' bundles alone (a consumer carries only the SDKs its tasks' services declare); the
 * SDKs a task needs only when it runs are loaded then, from a chunk of their own, so they
 * stay out of what Node reads at init; and that init set stays under its size. All three are
 * read from esbuild's metafile, so a new import that drags an SDK into a bundle, or into its
 * cold start, fails `npm run synth`.
 */
export const budgets: readonly Budget[] = [
  { match: /-consumer-default$/, maxKiB: 520, packages: [] },
  { match: /-consumer-ai$/, maxKiB: 520, packages: ['openai'] },
  { match: /-consumer-billing$/, maxKiB: 520, packages: ['stripe'] },
  { match: /-consumer-data$/, maxKiB: 530, packages: ['exceljs', 'csv-parse', 'csv-stringify', '@aws-sdk/lib-storage', '@aws-sdk/s3-request-presigner'] },
  // The webhook checks Stripe's signature on every request, so Stripe is loaded at init.
  { match: /-stripe-webhook$/, maxKiB: 630, packages: ['stripe'], atInit: ['stripe'] },
  { match: /ResultStoreMigrations/, maxKiB: 210, packages: [] },
];

/** The packages some bundles may carry and the rest may not. */
const restricted = new Set(budgets.flatMap((budget) => budget.packages));

/** Packages no bundle loads at init unless its budget says so: what only some tasks call, when they run. */
const onFirstUse = new Set([...restricted, '@aws-sdk/client-s3', '@aws-sdk/client-secrets-manager', '@aws-sdk/client-rds-data']);

export interface BuiltBundle {
  readonly name: string;
  readonly metafile: Metafile;
  /** The size of the files Node reads at init (initOutputs), in bytes. */
  readonly initBytes: number;
}

/** The local cloud's code (its emulator front, pollers, stand-ins for OpenAI and Stripe): never part of a function. */
const localCloudCode = /(^|\/)shared\/local\//;

/** The local cloud's modules a bundle carries, in any chunk. */
function localCloudModules(metafile: Metafile): string[] {
  const inputs = Object.values(metafile.outputs).flatMap((output) => Object.keys(output.inputs));
  return [...new Set(inputs.filter((input) => localCloudCode.test(input)))];
}

/** Every way a bundle breaks its budget, one line each; empty when all hold. */
export function budgetProblems(bundles: readonly BuiltBundle[]): string[] {
  const problems: string[] = [];
  for (const bundle of bundles) {
    const budget = budgets.find((candidate) => candidate.match.test(bundle.name));
    if (!budget) {
      problems.push(`${bundle.name}: no budget in infra/bundle-budget.ts`);
      continue;
    }
    const kib = bundle.initBytes / 1024;
    if (kib > budget.maxKiB) problems.push(`${bundle.name}: ${kib.toFixed(0)} KiB loaded at init, over its budget of ${budget.maxKiB} KiB`);
    for (const name of bundledPackages(bundle.metafile)) {
      if (restricted.has(name) && !budget.packages.includes(name)) problems.push(`${bundle.name}: carries ${name}, which its tasks' services do not declare`);
    }
    for (const input of localCloudModules(bundle.metafile)) problems.push(`${bundle.name}: carries ${input}, which only the local cloud runs`);
    for (const name of bundledPackages(bundle.metafile, initOutputs(bundle.metafile))) {
      if (onFirstUse.has(name) && !(budget.atInit ?? []).includes(name)) problems.push(`${bundle.name}: loads ${name} at init; import it dynamically where it is first used`);
    }
  }
  return problems;
}
