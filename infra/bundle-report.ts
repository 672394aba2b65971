/**
 * After `cdk synth`: each function bundle's size and its module-initialisation time in a
 * fresh Node 24 process, beside a bare `node -e ''`, so bundle growth shows up in review.
 * Each bundle is loaded from a copy in an empty folder with none of this machine's
 * environment, as Lambda loads it from /var/task: a bundle that imports a package it does
 * not contain fails here, not after a deploy. The benchmarks (`npm run bench`) measure the
 * same way through `measureBundles`.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** What the stack would set: the consumers read their configuration at module load. */
const placeholders = { QUEUE_URL_DEFAULT: 'q', DLQ_URL_DEFAULT: 'q', QUEUE_URL_AI: 'q', DLQ_URL_AI: 'q', QUEUE_URL_DATA: 'q', DLQ_URL_DATA: 'q', QUEUE_URL_BILLING: 'q', DLQ_URL_BILLING: 'q', DB_CLUSTER_ARN: 'arn:aws:rds:x', DB_SECRET_ARN: 'arn:aws:secretsmanager:x', AWS_REGION: 'us-east-1' };

export interface Bundle {
  readonly stack: string;
  readonly name: string;
  /** The bundle's entry file (`index.mjs`). */
  readonly path: string;
}

export interface BundleMeasurement extends Bundle {
  readonly bytes: number;
  readonly initMs: number;
}

export interface BundleReport {
  /** `node -e ''` measured the same way, in the same run. */
  readonly baselineMs: number;
  readonly runs: number;
  readonly bundles: readonly BundleMeasurement[];
}

/** Milliseconds from process start to the module loaded, the best of `runs` fresh processes run in `cwd`. */
export function initMs(script: string, runs = 3, cwd?: string): number {
  const times = Array.from({ length: runs }, () =>
    Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { env: { PATH: process.env.PATH ?? '/usr/bin', ...placeholders }, ...(cwd ? { cwd } : {}) }).toString().trim()));
  return Math.min(...times);
}

/** The bundle's folder copied into an empty temporary one, with no node_modules above it. */
function isolatedCopy(bundle: Bundle): { entry: string; remove(): void } {
  const folder = mkdtempSync(join(tmpdir(), 'taskq-bundle-'));
  cpSync(dirname(bundle.path), folder, { recursive: true });
  return { entry: join(folder, 'index.mjs'), remove: () => rmSync(folder, { recursive: true, force: true }) };
}

/** Our function bundles in a cloud assembly (CDK's own custom-resource functions left out). */
export function bundlesOfAssembly(outdir: string): Bundle[] {
  const bundles: Bundle[] = [];
  for (const file of readdirSync(outdir).filter((name) => name.endsWith('.template.json'))) {
    const template = JSON.parse(readFileSync(join(outdir, file), 'utf8')) as { Resources: Record<string, { Type: string; Properties: { FunctionName?: unknown }; Metadata?: Record<string, string> }> };
    for (const [id, resource] of Object.entries(template.Resources)) {
      const asset = resource.Metadata?.['aws:asset:path'];
      if (resource.Type !== 'AWS::Lambda::Function' || !asset) continue;
      const path = join(outdir, asset, 'index.mjs');
      try {
        statSync(path);
      } catch {
        continue; // a function CDK provides (custom resources), not one of ours
      }
      bundles.push({ stack: file.replace('.template.json', ''), name: typeof resource.Properties.FunctionName === 'string' ? resource.Properties.FunctionName : id, path });
    }
  }
  return bundles;
}

/** Sizes and init times of the bundles, with the bare-Node baseline measured first. */
export function measureBundles(bundles: readonly Bundle[], runs = 3, onMeasured?: (done: number, total: number) => void): BundleReport {
  const baselineMs = initMs('console.log(performance.now().toFixed(1))', runs);
  const measured = bundles.map((bundle, index) => {
    const copy = isolatedCopy(bundle);
    try {
      const url = pathToFileURL(copy.entry).href;
      const result = { ...bundle, bytes: statSync(bundle.path).size, initMs: initMs(`await import(${JSON.stringify(url)}); console.log(performance.now().toFixed(1))`, runs, dirname(copy.entry)) };
      onMeasured?.(index + 1, bundles.length);
      return result;
    } finally {
      copy.remove();
    }
  });
  return { baselineMs, runs, bundles: measured };
}

export function bundleTable(report: BundleReport): string {
  const rows = report.bundles.map((b) => `| ${b.stack} | ${b.name} | ${(b.bytes / 1024).toFixed(0)} KiB | ${b.initMs.toFixed(0)} ms |`);
  return `| stack | function | bundle | init (node -e '' = ${report.baselineMs.toFixed(0)} ms) |\n|---|---|---|---|\n${rows.join('\n')}`;
}

if (import.meta.main) {
  console.log(bundleTable(measureBundles(bundlesOfAssembly(process.argv[2] ?? 'cdk.out'))));
}
