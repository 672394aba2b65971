import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { budgetProblems, bundledPackages } from '../../infra/bundle-budget.ts';

/** A bundle's asset folder with an esbuild metafile naming these inputs. */
function asset(inputs: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'taskq-budget-'));
  writeFileSync(join(dir, 'index.meta.json'), JSON.stringify({ inputs: Object.fromEntries(inputs.map((input) => [input, { bytes: 1 }])), outputs: {} }));
  return dir;
}

describe('bundle budgets', () => {
  const dirs: string[] = [];
  const made = (inputs: readonly string[]) => {
    const dir = asset(inputs);
    dirs.push(dir);
    return dir;
  };
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('reads the packages a bundle holds from its metafile, scoped names included', () => {
    expect([...bundledPackages(made(['shared/tasks/ai.ts', 'node_modules/openai/index.mjs', 'node_modules/@aws-sdk/client-sqs/dist-es/index.js']))].sort()).toEqual(['@aws-sdk/client-sqs', 'openai']);
  });

  it("refuses a consumer that carries another queue's SDK, or outgrows its size", () => {
    const defaultWithStripe = made(['node_modules/stripe/esm/stripe.esm.node.js', 'node_modules/zod/index.js']);
    expect(budgetProblems([{ name: 'dev-consumer-default', assetDir: defaultWithStripe, bytes: 2_000 * 1024 }])).toEqual([
      'dev-consumer-default: 2000 KiB, over its budget of 1250 KiB',
      "dev-consumer-default: carries stripe, which its tasks' services do not declare",
    ]);
  });

  it('lets each queue carry what its services declare', () => {
    expect(budgetProblems([
      { name: 'prod-consumer-billing', assetDir: made(['node_modules/stripe/esm/stripe.esm.node.js']), bytes: 1_000 * 1024 },
      { name: 'prod-consumer-ai', assetDir: made(['node_modules/openai/index.mjs']), bytes: 1_000 * 1024 },
    ])).toEqual([]);
  });
});
