import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedWorkRoot, LambdaFunction, type FunctionSpec } from './runtime.ts';

/** A bundle that reports what its sandbox lets it do. */
const probe = `
import { execSync } from 'node:child_process';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
const attempt = (work) => { try { work(); return 'ok'; } catch (error) { return error.code ?? error.message; } };
export const handler = async (event, context) => {
  if (event.sleep) await new Promise((resolve) => setTimeout(resolve, event.sleep));
  if (event.fail) throw new TypeError('asked to fail');
  return {
    variables: Object.keys(process.env).sort(),
    writeTaskRoot: attempt(() => writeFileSync(join(process.env.LAMBDA_TASK_ROOT, 'x'), 'x')),
    writeTmp: attempt(() => {
      const file = '/tmp/taskq-rehearsal-probe-' + process.pid;
      writeFileSync(file, 'x');
      unlinkSync(file);
    }),
    // /tmp is readable, as in Lambda; a file elsewhere is not (wherever the checkout lives).
    readOutside: attempt(() => readFileSync('/etc/passwd')),
    spawn: attempt(() => execSync('true')),
    cwd: process.cwd(),
    remaining: context.getRemainingTimeInMillis(),
    context: [context.awsRequestId.length, context.functionName, context.invokedFunctionArn, context.memoryLimitInMB, context.logGroupName],
  };
};`;

describe('a bundle started as Lambda starts it', () => {
  let assets: string;
  let workRoot: string;
  const functions: LambdaFunction[] = [];
  const start = (code: string, overrides: Partial<FunctionSpec> = {}) => {
    const assetDir = join(assets, `asset-${functions.length}`);
    mkdirSync(assetDir);
    writeFileSync(join(assetDir, 'index.mjs'), code);
    const fn = new LambdaFunction(
      { logicalId: `Probe${functions.length}`, name: 'probe', arn: 'arn:aws:lambda:us-east-1:000000000000:function:probe', handler: 'index.handler', runtime: 'nodejs24.x', timeoutSeconds: 5, memoryMb: 128, logGroupName: '/aws/lambda/probe', region: 'us-east-1', variables: { FROM_TEMPLATE: 'yes' }, assetDir, ...overrides },
      { credentials: { accessKeyId: 'Probe', secretAccessKey: 's', sessionToken: 't' }, endpoints: { AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:9' }, workRoot },
    );
    functions.push(fn);
    return fn;
  };

  beforeAll(() => {
    assets = mkdtempSync(join(tmpdir(), 'taskq-probe-assets-'));
    workRoot = isolatedWorkRoot();
  });
  afterAll(() => {
    for (const fn of functions) fn.stop();
    rmSync(assets, { recursive: true, force: true });
    rmSync(workRoot, { recursive: true, force: true });
  });

  it('sees only the template, Lambda and endpoint variables, a read-only task root, a writable /tmp, no child processes', async () => {
    const outcome = await start(probe).invoke({});
    expect(outcome.kind).toBe('response');
    const seen = (outcome as { payload: Record<string, unknown> }).payload;
    expect(seen.variables).toEqual(expect.arrayContaining(['FROM_TEMPLATE', 'AWS_ENDPOINT_URL_SQS', '_HANDLER', 'AWS_LAMBDA_FUNCTION_NAME', 'LAMBDA_TASK_ROOT', 'AWS_LAMBDA_RUNTIME_API', 'TZ']));
    expect(seen.variables).not.toContain('HOME');
    expect(seen.variables).not.toContain('POWERTOOLS_LOG_LEVEL');
    expect(seen).toMatchObject({ writeTaskRoot: 'ERR_ACCESS_DENIED', writeTmp: 'ok', readOutside: 'ERR_ACCESS_DENIED', spawn: 'ERR_ACCESS_DENIED' });
    expect(seen.remaining).toBeGreaterThan(4000);
    expect(seen.context).toEqual([36, 'probe', 'arn:aws:lambda:us-east-1:000000000000:function:probe', '128', '/aws/lambda/probe']);
  });

  it('reports a bundle that imports a package it does not contain as Runtime.ImportModuleError', async () => {
    const outcome = await start("import pg from 'pg'; export const handler = async () => pg;").invoke({});
    expect(outcome).toMatchObject({ kind: 'error', phase: 'init', errorType: 'Runtime.ImportModuleError' });
    expect((outcome as { errorMessage: string }).errorMessage).toMatch(/ERR_MODULE_NOT_FOUND.*'pg'/);
  });

  it('reports a missing export as Runtime.HandlerNotFound', async () => {
    expect(await start('export const other = 1;').invoke({})).toMatchObject({ kind: 'error', phase: 'init', errorType: 'Runtime.HandlerNotFound' });
  });

  it("returns a handler's error as Lambda reports it and keeps the environment", async () => {
    const fn = start(probe);
    expect(await fn.invoke({ fail: true })).toMatchObject({ kind: 'error', phase: 'invoke', errorType: 'TypeError', errorMessage: 'asked to fail' });
    expect((await fn.invoke({})).kind).toBe('response');
    expect(fn.initDurationsMs).toHaveLength(1);
  });

  it('kills an invocation at the timeout and starts a fresh environment for the next', async () => {
    const fn = start(probe, { timeoutSeconds: 1 });
    expect(await fn.invoke({ sleep: 3000 })).toMatchObject({ kind: 'timeout', errorMessage: expect.stringMatching(/Task timed out after 1\.\d\d seconds/) });
    expect((await fn.invoke({})).kind).toBe('response');
    expect(fn.initDurationsMs).toHaveLength(2);
  });
});
