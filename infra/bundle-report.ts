/**
 * After `cdk synth`: each function bundle's sizes (what Node reads at init, all its code,
 * the asset with its source maps) and its init time, with the bundle
 * started as Lambda starts it (test/rehearsal/runtime.ts): copied alone into an empty
 * folder with no node_modules above it, a fresh Node 24 process under the permission
 * model, the template's environment and Lambda's own variables only. Init is the time from
 * the process's start until its handler module is loaded and it asks the Runtime API for
 * its first event, beside the same for an empty handler, so bundle growth shows up in
 * review, and a bundle that imports a package it does not contain fails here, not after a
 * deploy. The benchmarks (`npm run bench`) measure the same way through `measureBundles`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAssemblies, type FunctionDefinition } from '../test/rehearsal/assembly.ts';
import { account, localValues, region } from '../test/rehearsal/environment.ts';
import { credentialsOf, functionSpec } from '../test/rehearsal/functions.ts';
import { budgetProblems } from './bundle-budget.ts';
import { assetSizes, entryFile, readMetafile, type AssetSizes } from './bundle-metafile.ts';
import { isolatedWorkRoot, LambdaFunction, type FunctionSpec } from '../test/rehearsal/runtime.ts';

export interface Bundle {
  readonly stack: string;
  readonly name: string;
  /** The bundle's entry file (`index.mjs`) in the cloud assembly. */
  readonly path: string;
  /** What the template says about the function: its handler, memory and environment. */
  readonly spec: FunctionSpec;
}

export interface BundleMeasurement extends Bundle, AssetSizes {
  readonly initMs: number;
}

export interface BundleReport {
  /** An empty handler, started and measured the same way in the same run. */
  readonly baselineMs: number;
  readonly runs: number;
  readonly bundles: readonly BundleMeasurement[];
}

/**
 * Our function bundles in a cloud assembly (CDK's own custom-resource functions left out),
 * their environments resolved to the names and ARNs the stack's resources would have in AWS:
 * nothing is called at init, so no stand-in is needed.
 */
export function bundlesOfAssembly(outdir: string): Bundle[] {
  return readAssemblies(outdir).flatMap((assembly) => {
    const values = localValues(assembly.template, {
      stackName: assembly.stackName,
      queueUrl: (name) => `https://sqs.${region}.amazonaws.com/${account}/${name}`,
      clusterArn: `arn:aws:rds:${region}:${account}:cluster:${assembly.stackName.toLowerCase()}-cluster`,
      clusterSecretArn: `arn:aws:secretsmanager:${region}:${account}:secret:${assembly.stackName}-cluster-secret-AbCdEf`,
    });
    return assembly.functions.map((definition: FunctionDefinition) => {
      const spec = functionSpec(definition, values);
      // Named as before: its FunctionName, else its logical id (a generated name changes with every stack).
      const name = typeof definition.properties.FunctionName === 'string' ? definition.properties.FunctionName : definition.logicalId;
      return { stack: assembly.stackName, name, path: join(definition.assetDir, entryFile), spec };
    });
  });
}

/** Milliseconds to the handler loaded, the best of `runs` fresh execution environments. */
async function initMs(spec: FunctionSpec, runs: number, workRoot: string): Promise<number> {
  const fn = new LambdaFunction(spec, { credentials: credentialsOf(spec.logicalId), endpoints: {}, workRoot });
  try {
    const times: number[] = [];
    for (let run = 0; run < runs; run++) {
      times.push(await fn.warm());
      fn.stop();
    }
    return Math.min(...times);
  } catch (outcome) {
    const { errorType, errorMessage } = outcome as { errorType?: string; errorMessage?: string };
    throw new Error(`${spec.name} does not load from an isolated copy: ${errorType ?? ''} ${errorMessage ?? String(outcome)}\n${fn.logs.slice(-10).join('\n')}`, { cause: outcome });
  } finally {
    fn.remove();
  }
}

/** An empty handler with the first bundle's settings: what the runtime itself costs. */
function emptyHandler(like: FunctionSpec | undefined): { spec: FunctionSpec; remove(): void } {
  const assetDir = mkdtempSync(join(tmpdir(), 'taskq-empty-handler-'));
  writeFileSync(join(assetDir, 'index.mjs'), 'export const handler = async () => null;\n');
  const spec: FunctionSpec = {
    logicalId: 'EmptyHandler', name: 'empty-handler', arn: `arn:aws:lambda:${region}:${account}:function:empty-handler`, handler: 'index.handler', runtime: like?.runtime ?? 'nodejs24.x',
    timeoutSeconds: 3, memoryMb: like?.memoryMb ?? 128, logGroupName: '/aws/lambda/empty-handler', region, variables: {}, assetDir,
  };
  return { spec, remove: () => rmSync(assetDir, { recursive: true, force: true }) };
}

/** Sizes and init times of the bundles, with the empty handler measured first. */
export async function measureBundles(bundles: readonly Bundle[], runs = 3, onMeasured?: (done: number, total: number) => void): Promise<BundleReport> {
  const workRoot = isolatedWorkRoot();
  const empty = emptyHandler(bundles[0]?.spec);
  try {
    const baselineMs = await initMs(empty.spec, runs, workRoot);
    const measured: BundleMeasurement[] = [];
    for (const [index, bundle] of bundles.entries()) {
      measured.push({ ...bundle, ...assetSizes(bundle.spec.assetDir), initMs: await initMs(bundle.spec, runs, workRoot) });
      onMeasured?.(index + 1, bundles.length);
    }
    return { baselineMs, runs, bundles: measured };
  } finally {
    empty.remove();
    rmSync(workRoot, { recursive: true, force: true });
  }
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

/** Loaded at init: the entry and the chunks it imports statically; all code: the chunks a task imports on first use too; asset: with the source maps, as deployed. */
export function bundleTable(report: BundleReport): string {
  const rows = report.bundles.map((b) => `| ${b.stack} | ${b.name} | ${kib(b.initBytes)} | ${kib(b.codeBytes)} | ${kib(b.assetBytes)} | ${b.initMs.toFixed(0)} ms |`);
  return `| stack | function | loaded at init | all code | asset | init from an isolated copy (empty handler = ${report.baselineMs.toFixed(0)} ms) |\n|---|---|---|---|---|---|\n${rows.join('\n')}`;
}

if (import.meta.main) {
  const report = await measureBundles(bundlesOfAssembly(process.argv[2] ?? 'cdk.out'));
  console.log(bundleTable(report));
  const problems = budgetProblems(report.bundles.map((bundle) => ({ name: bundle.name, metafile: readMetafile(bundle.spec.assetDir), initBytes: bundle.initBytes })));
  if (problems.length > 0) {
    console.error(`bundle budgets broken (infra/bundle-budget.ts):\n  ${problems.join('\n  ')}`);
    process.exitCode = 1;
  }
}
