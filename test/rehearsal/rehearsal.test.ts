import { afterAll, beforeAll, describe, it } from 'vitest';
import { checks } from './checks/index.ts';
import { startRehearsal, type Rehearsal } from './rehearsal.ts';

/**
 * The stack as shipped (test/rehearsal/rehearsal.ts): one synth of the dev stage and one
 * set of stand-ins for the whole file; each check is a test, in the order they depend on.
 */
describe('the dev stage rehearsed: its bundles, from isolated copies, behind their triggers and their roles', () => {
  let rehearsal: Rehearsal;
  beforeAll(async () => {
    rehearsal = await startRehearsal({ stage: 'dev' });
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
