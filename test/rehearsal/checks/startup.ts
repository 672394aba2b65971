import { sql } from 'drizzle-orm';
import { bundledPackages, initOutputs, readMetafile } from '../../../infra/bundle-metafile.ts';
import { resourcesOfType } from '../assembly.ts';
import { resolve } from '../environment.ts';
import { triggerEvent } from '../events.ts';
import { evaluate } from '../iam.ts';
import { roleOfFunction, rolePolicies } from '../policies.ts';
import { seedData } from '../seeds.ts';
import type { Check } from './check.ts';

/** Every function's bundle loads alone, with only the template's environment: one execution environment each. */
export const bundlesLoad: Check = {
  name: 'every function bundle loads from an isolated copy, with only its template environment',
  timeoutMs: 60_000,
  async run(rehearsal) {
    const results = await Promise.all([...rehearsal.functions.values()].map(async (fn) => {
      try {
        return { fn, initMs: await fn.warm() };
      } catch (outcome) {
        return { fn, error: `${(outcome as { errorType?: string }).errorType ?? 'Error'}: ${(outcome as { errorMessage?: string }).errorMessage ?? String(outcome)}` };
      }
    }));
    const failed = results.filter((result) => result.error);
    if (failed.length > 0) throw new Error(failed.map((result) => `${result.fn.spec.name}: ${result.error}\n${result.fn.logs.slice(-10).join('\n')}`).join('\n'));
    return results.map((result) => `${result.fn.spec.name} ${result.initMs!.toFixed(0)} ms`).join(', ');
  },
};

/** What each consumer's tasks load on first use: the drains that follow run those tasks, so they load these chunks. */
const loadedOnFirstUse: Record<string, readonly string[]> = {
  DefaultTasksConsumer: ['@aws-sdk/client-s3'],
  AiTasksConsumer: ['openai', '@aws-sdk/client-secrets-manager'],
  DataTasksConsumer: ['exceljs', 'csv-parse', 'csv-stringify', '@aws-sdk/client-s3', '@aws-sdk/lib-storage', '@aws-sdk/s3-request-presigner'],
  BillingTasksConsumer: ['stripe', '@aws-sdk/client-secrets-manager'],
};

/** Each consumer carries its tasks' SDKs in chunks of its asset that its init does not read. */
export const sdksInChunks: Check = {
  name: "every consumer carries its tasks' SDKs in chunks that its init does not load",
  timeoutMs: 10_000,
  async run(rehearsal) {
    return Object.entries(loadedOnFirstUse).map(([prefix, packages]) => {
      const fn = rehearsal.fn(prefix);
      const metafile = readMetafile(fn.spec.assetDir);
      const init = initOutputs(metafile);
      const atInit = bundledPackages(metafile, init);
      const lazy = bundledPackages(metafile, Object.keys(metafile.outputs).filter((output) => !init.includes(output)));
      const wrong = packages.filter((name) => atInit.has(name) || !lazy.has(name));
      if (wrong.length > 0) throw new Error(`${fn.spec.name}: ${wrong.join(', ')} not in a chunk loaded on first use (at init: ${[...atInit].join(', ')})`);
      return `${fn.spec.name}: ${init.length} of ${Object.keys(metafile.outputs).filter((output) => output.endsWith('.mjs')).length} files at init`;
    }).join('; ');
  },
};

/**
 * The CDK trigger's provider invokes the migrations function on deploy (it must be allowed
 * lambda:InvokeFunction on the version it names), and the migrations apply through the Data API.
 */
export const migrationsApply: Check = {
  name: "the CDK trigger's invocation of the migrations applies them through the Data API",
  timeoutMs: 120_000,
  async run(rehearsal) {
    const { template } = rehearsal.assembly;
    const [, trigger] = resourcesOfType(template, 'Custom::Trigger')[0] ?? [];
    if (!trigger) throw new Error('the template has no Custom::Trigger');
    const properties = trigger.Properties ?? {};
    const handlerArn = String(resolve(properties.HandlerArn, rehearsal.values));
    const provider = (properties.ServiceToken as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    const providerRole = rolePolicies(template, roleOfFunction(template.Resources[provider]!.Properties ?? {}), rehearsal.values);
    const decision = evaluate(providerRole.statements, { action: 'lambda:InvokeFunction', resource: handlerArn });
    if (decision !== 'allow') throw new Error(`the trigger's provider may not invoke ${handlerArn}: ${decision}`);

    const version = template.Resources[(properties.HandlerArn as { Ref: string }).Ref]!;
    const migrations = rehearsal.functions.get((version.Properties?.FunctionName as { Ref: string }).Ref);
    if (!migrations) throw new Error(`the trigger's handler ${handlerArn} is not one of our bundles`);
    const outcome = await migrations.invoke(triggerEvent);
    if (outcome.kind !== 'response') throw new Error(`the migrations failed (${outcome.kind}): ${outcome.errorMessage}\n${migrations.logs.slice(-10).join('\n')}`);
    const tables = await rehearsal.database.rows<{ table_name: string }>(sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`);
    for (const table of ['task_results', 'task_attempts', 'chord_counters', 'stripe_events']) {
      if (!tables.some((row) => row.table_name === table)) throw new Error(`after the migrations there is no ${table} table`);
    }
    await seedData(rehearsal);
    return `${JSON.stringify(outcome.payload)} in ${outcome.durationMs.toFixed(0)} ms; ${tables.length} tables`;
  },
};
