/**
 * After `cdk synth`: each function bundle's size and its module-initialisation time in a
 * fresh Node 24 process, beside a bare `node -e ''`, so bundle growth shows up in review.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const outdir = process.argv[2] ?? 'cdk.out';
const templates = readdirSync(outdir).filter((file) => file.endsWith('.template.json'));
const placeholders = { QUEUE_URL_DEFAULT: 'q', DLQ_URL_DEFAULT: 'q', QUEUE_URL_AI: 'q', DLQ_URL_AI: 'q', QUEUE_URL_DATA: 'q', DLQ_URL_DATA: 'q', QUEUE_URL_BILLING: 'q', DLQ_URL_BILLING: 'q', DB_CLUSTER_ARN: 'arn:aws:rds:x', DB_SECRET_ARN: 'arn:aws:secretsmanager:x', AWS_REGION: 'us-east-1' };

/** Milliseconds from process start to the module loaded, the best of three runs. */
function initMs(script: string): number {
  const runs = [0, 1, 2].map(() => Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, ...placeholders } }).toString().trim()));
  return Math.min(...runs);
}

const baseline = initMs('console.log(performance.now().toFixed(1))');
const rows: string[] = [];
for (const file of templates) {
  const template = JSON.parse(readFileSync(join(outdir, file), 'utf8')) as { Resources: Record<string, { Type: string; Properties: { FunctionName?: unknown }; Metadata?: Record<string, string> }> };
  for (const [id, resource] of Object.entries(template.Resources)) {
    const asset = resource.Metadata?.['aws:asset:path'];
    if (resource.Type !== 'AWS::Lambda::Function' || !asset) continue;
    const bundle = join(outdir, asset, 'index.mjs');
    let size: number;
    try {
      size = statSync(bundle).size;
    } catch {
      continue; // a function CDK provides (custom resources), not one of ours
    }
    const url = new URL(`file://${join(process.cwd(), bundle)}`).href;
    const ms = initMs(`await import(${JSON.stringify(url)}); console.log(performance.now().toFixed(1))`);
    const name = typeof resource.Properties.FunctionName === 'string' ? resource.Properties.FunctionName : id;
    rows.push(`| ${file.replace('.template.json', '')} | ${name} | ${(size / 1024).toFixed(0)} KiB | ${ms.toFixed(0)} ms |`);
  }
}
console.log(`| stack | function | bundle | init (node -e '' = ${baseline.toFixed(0)} ms) |\n|---|---|---|---|\n${rows.join('\n')}`);
