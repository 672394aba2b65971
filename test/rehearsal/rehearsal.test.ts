import { afterAll, beforeAll, describe, it } from 'vitest';
import { checks } from './checks/index.ts';
import { startRehearsal, type Rehearsal } from './rehearsal.ts';

/**
 * The stack as shipped (test/rehearsal/rehearsal.ts): one synth of each stage and one set
 * of stand-ins for it; each check is a test, in the order they depend on. Prod differs in
 * names, retention, capacity and deletion policies, so its template is rehearsed too.
 */
describe.each(['dev', 'prod'])('the %s stage rehearsed: its bundles, from isolated copies, behind their triggers and their roles', (stage) => {
  let rehearsal: Rehearsal;
  beforeAll(async () => {
    rehearsal = await startRehearsal({ stage });
  }, 240_000);
  afterAll(async () => {
    await rehearsal?.stop();
  }, 60_000);

  for (const check of checks) {
    it(check.name, async () => {
      await check.run(rehearsal);
    }, check.timeoutMs);
  }
});
