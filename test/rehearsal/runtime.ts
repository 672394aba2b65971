import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { accessSync, constants, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { projectRoot } from '../../infra/constructs/bundling.ts';
import { ExecutionEnvironment, type InvocationOutcome } from './execution-environment.ts';

/** What the template says about a function, resolved to local values. */
export interface FunctionSpec {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  /** `Handler`, e.g. `index.handler`. */
  readonly handler: string;
  /** `Runtime`, e.g. `nodejs24.x`. */
  readonly runtime: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly logGroupName: string;
  readonly region: string;
  /** `Environment.Variables`, resolved. */
  readonly variables: Readonly<Record<string, string>>;
  readonly assetDir: string;
}

export interface RuntimeSettings {
  /** The execution role's credentials; the access key id names the caller to the stand-ins. */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken: string };
  /** `AWS_ENDPOINT_URL_<SERVICE>` and the like: where the SDKs find the stand-ins. */
  readonly endpoints: Readonly<Record<string, string>>;
  /** An empty folder with no node_modules above it. */
  readonly workRoot: string;
  readonly onLog?: (line: string) => void;
}

/**
 * Lambda's limit on the init phase of an on-demand function, which the function timeout
 * does not count: https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-ib
 */
const initLimitMs = 10_000;

export type Outcome = InvocationOutcome & { readonly durationMs: number; readonly initMs?: number };

/** Node 24 itself (not the npm shim), as the runtime's `/var/lang/bin/node`. */
export const nodeBinary = realpathSync(join(projectRoot, 'node_modules', '.bin', 'node'));
/** The major version of the Node that runs the bundles (not necessarily the one running this file). */
const runtimeMajor = (() => {
  let major: string | undefined;
  return () => (major ??= execFileSync(nodeBinary, ['-p', 'process.versions.node.split(".")[0]']).toString().trim());
})();
const bootstrapSource = fileURLToPath(new URL('./bootstrap.mjs', import.meta.url));

/**
 * A folder to hold task folders: outside /tmp when the machine allows, so that granting
 * /tmp for writing (as Lambda does) leaves the code itself read-only.
 */
export function isolatedWorkRoot(): string {
  const parent = ['/var/tmp', tmpdir()].find((folder) => {
    try {
      accessSync(folder, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  })!;
  const root = mkdtempSync(join(parent, 'taskq-rehearsal-'));
  for (let folder = root; folder !== dirname(folder); folder = dirname(folder)) {
    if (existsSync(join(folder, 'node_modules'))) throw new Error(`${folder} has a node_modules folder: a bundle copied below it could resolve packages Lambda would not have`);
  }
  return root;
}

/** The asset copied alone into `<root>/<name>/task`, with our bootstrap beside it in `runtime`, as Lambda's /var/task and /var/runtime. */
export function isolatedCopy(assetDir: string, root: string, name: string): { taskRoot: string; runtimeDir: string; bootstrap: string } {
  const taskRoot = join(root, name, 'task');
  const runtimeDir = join(root, name, 'runtime');
  mkdirSync(runtimeDir, { recursive: true });
  cpSync(assetDir, taskRoot, { recursive: true });
  cpSync(bootstrapSource, join(runtimeDir, 'bootstrap.mjs'));
  if (readdirSync(taskRoot).includes('node_modules')) throw new Error(`${assetDir} ships a node_modules folder`);
  return { taskRoot, runtimeDir, bootstrap: join(runtimeDir, 'bootstrap.mjs') };
}

/**
 * The variables Lambda sets itself (the template cannot), added to the template's own:
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
 * The endpoint variables are this machine's only addition: the SDKs read them instead of
 * AWS's endpoints (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html).
 */
export function lambdaVariables(spec: FunctionSpec, settings: Pick<RuntimeSettings, 'credentials' | 'endpoints'>, paths: { taskRoot: string; runtimeDir: string }): Record<string, string> {
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  return {
    ...spec.variables,
    ...settings.endpoints,
    _HANDLER: spec.handler,
    AWS_REGION: spec.region,
    AWS_DEFAULT_REGION: spec.region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${spec.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: spec.name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: spec.logGroupName,
    AWS_LAMBDA_LOG_STREAM_NAME: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
    AWS_ACCESS_KEY_ID: settings.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: settings.credentials.secretAccessKey,
    AWS_SESSION_TOKEN: settings.credentials.sessionToken,
    LAMBDA_TASK_ROOT: paths.taskRoot,
    LAMBDA_RUNTIME_DIR: paths.runtimeDir,
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    PATH: '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin',
    NODE_PATH: '/opt/nodejs/node24/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules',
  };
}

/**
 * Node's permission model as Lambda's file system: the code and the runtime readable,
 * only /tmp writable; no child processes, workers, addons or WASI (not granted).
 * https://nodejs.org/docs/latest-v24.x/api/permissions.html
 * The heap is sized from the memory setting, as Lambda's Node.js bootstrap does from
 * AWS_LAMBDA_FUNCTION_MEMORY_SIZE (https://github.com/lambci/docker-lambda/issues/102).
 */
export function nodeArguments(spec: Pick<FunctionSpec, 'memoryMb'>, paths: { taskRoot: string; runtimeDir: string; bootstrap: string }): string[] {
  return ['--permission', `--allow-fs-read=${paths.taskRoot}`, `--allow-fs-read=${paths.runtimeDir}`, '--allow-fs-read=/tmp', '--allow-fs-write=/tmp', `--max-old-space-size=${spec.memoryMb}`, paths.bootstrap];
}

/**
 * A Lambda function run from an isolated copy of its bundle: an execution environment is
 * started when an invocation finds none idle (a cold start), reused after, and replaced
 * after a timeout or a crash, as Lambda does.
 */
export class LambdaFunction {
  readonly spec: FunctionSpec;
  readonly logs: string[] = [];
  readonly initDurationsMs: number[] = [];
  readonly #settings: RuntimeSettings;
  readonly #paths: ReturnType<typeof isolatedCopy>;
  readonly #environments = new Set<ExecutionEnvironment>();

  constructor(spec: FunctionSpec, settings: RuntimeSettings) {
    if (spec.runtime !== `nodejs${runtimeMajor()}.x`) throw new Error(`${spec.logicalId} runs on ${spec.runtime}, ${nodeBinary} is Node ${runtimeMajor()}`);
    this.spec = spec;
    this.#settings = settings;
    this.#paths = isolatedCopy(spec.assetDir, settings.workRoot, spec.logicalId);
  }

  /** The environment one execution environment gets: the template's, Lambda's, and the endpoints. */
  environment(): Record<string, string> {
    return lambdaVariables(this.spec, this.#settings, this.#paths);
  }

  async invoke(event: unknown): Promise<Outcome> {
    const started = performance.now();
    let initMs: number | undefined;
    let environment = await this.#idleEnvironment();
    if (!environment) {
      try {
        ({ environment, initMs } = await ExecutionEnvironment.start(this.#environmentSettings(), Date.now() + initLimitMs));
      } catch (outcome) {
        return { ...(outcome as InvocationOutcome), durationMs: performance.now() - started };
      }
      this.initDurationsMs.push(initMs);
      this.#environments.add(environment);
    }
    // The timeout runs from the start of the invoke phase, after any init.
    const deadlineMs = Date.now() + this.spec.timeoutSeconds * 1000;
    const traceId = `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')};Sampled=0`;
    const outcome = await environment.invoke({ requestId: randomUUID(), event, deadlineMs, functionArn: this.spec.arn, traceId });
    if (environment.exited) this.#environments.delete(environment);
    return { ...outcome, durationMs: performance.now() - started, ...(initMs !== undefined ? { initMs } : {}) };
  }

  /** An idle environment, waiting a moment for one that has just answered rather than starting another. */
  async #idleEnvironment(): Promise<ExecutionEnvironment | undefined> {
    const idle = [...this.#environments].find((candidate) => candidate.idle);
    if (idle) return idle;
    const finishing = [...this.#environments].find((candidate) => candidate.finishing);
    if (!finishing) return undefined;
    await finishing.untilIdle(250);
    return finishing.idle ? finishing : undefined;
  }

  /** Starts one execution environment now and keeps it idle, as a provisioned one; its init time is returned. */
  async warm(): Promise<number> {
    const { environment, initMs } = await ExecutionEnvironment.start(this.#environmentSettings(), Date.now() + initLimitMs);
    this.initDurationsMs.push(initMs);
    this.#environments.add(environment);
    return initMs;
  }

  stop(): void {
    for (const environment of this.#environments) environment.kill();
    this.#environments.clear();
  }

  /** Removes the copied bundle. */
  remove(): void {
    this.stop();
    rmSync(join(this.#settings.workRoot, this.spec.logicalId), { recursive: true, force: true });
  }

  #environmentSettings() {
    return {
      node: nodeBinary,
      args: nodeArguments(this.spec, this.#paths),
      cwd: this.#paths.taskRoot,
      environment: this.environment(),
      onLog: (line: string) => {
        this.logs.push(line);
        this.#settings.onLog?.(line);
      },
    };
  }
}
