/**
 * `npm run rehearse [-- --stage prod]`: the stack as shipped, rehearsed on this machine (see
 * rehearsal.ts), every check run in order and reported; the exit status is 1 if any failed.
 */
import { parseArgs } from 'node:util';
import { assetSizes } from '../../infra/bundle-metafile.ts';
import { checks } from './checks/index.ts';
import { startRehearsal } from './rehearsal.ts';

const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
let stage: string;
try {
  ({ values: { stage = 'dev' } } = parseArgs({ options: { stage: { type: 'string' } } }));
} catch (error) {
  console.error(`${(error as Error).message}\nusage: npm run rehearse [-- --stage NAME]   (default dev)`);
  process.exit(2);
}
const rehearsal = await startRehearsal({ stage, onProgress: (step) => console.log(`[${elapsed()}] ${step}`) });
const outcomes: { name: string; ok: boolean; detail: string; ms: number }[] = [];
try {
  for (const check of checks) {
    const checkStarted = performance.now();
    try {
      const detail = await check.run(rehearsal);
      outcomes.push({ name: check.name, ok: true, detail, ms: performance.now() - checkStarted });
    } catch (error) {
      outcomes.push({ name: check.name, ok: false, detail: error instanceof Error ? error.message : String(error), ms: performance.now() - checkStarted });
    }
    const last = outcomes.at(-1)!;
    console.log(`[${elapsed()}] ${last.ok ? 'PASS' : 'FAIL'} ${last.name} (${(last.ms / 1000).toFixed(1)} s)\n    ${last.detail.replaceAll('\n', '\n    ')}`);
  }
  console.log('\n| function | loaded at init | each cold start from an isolated copy (ms) | event source invocations: ok / error / timeout |');
  console.log('|---|---|---|---|');
  for (const fn of rehearsal.functions.values()) {
    const bytes = assetSizes(fn.spec.assetDir).initBytes;
    const reports = rehearsal.invocations.filter((report) => report.function === fn.spec.name && report.records > 0);
    const count = (outcome: string) => reports.filter((report) => report.outcome === outcome).length;
    console.log(`| ${fn.spec.name} | ${(bytes / 1024).toFixed(0)} KiB | ${fn.initDurationsMs.map((ms) => ms.toFixed(0)).join(', ')} | ${count('ok')} / ${count('error')} / ${count('timeout')} |`);
  }
} finally {
  await rehearsal.stop();
}
const failed = outcomes.filter((outcome) => !outcome.ok);
console.log(`\n${outcomes.length - failed.length} of ${outcomes.length} checks passed in ${elapsed()}${failed.length > 0 ? `; failed: ${failed.map((outcome) => outcome.name).join('; ')}` : ''}`);
process.exit(failed.length > 0 ? 1 : 0);
