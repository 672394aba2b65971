import { cpSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssetHashType, DockerImage, Duration, Validations, type BundlingOptions, type ILocalBundling, type RemovalPolicy } from 'aws-cdk-lib';
import { Architecture, Code, Function as LambdaFunction, Runtime, type FunctionProps } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { buildSync, type BuildOptions } from 'esbuild';
import { writeMetafile } from '../bundle-metafile.ts';

export const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Packages only the local cloud and the tests load; a Lambda bundle must never import them at load. */
export const localOnlyModules = [
  '@electric-sql/pglite',
  '@electric-sql/pglite-pgvector',
  'pg',
  'pg-native',
  'fauxqs',
  'drizzle-orm/node-postgres',
  'drizzle-orm/pglite',
] as const;

/** How every function's code is compiled: Node 24 ESM, minified, the SDK bundled so its version is ours. */
export const bundleSettings = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  minify: true,
  // The local-only drivers never run in Lambda, and drizzle's adapters for them stay external too: esbuild
  // hoists an inlined module's imports to the top of the bundle, so an inlined `drizzle-orm/pglite` would
  // make the bundle import `@electric-sql/pglite` at load and fail.
  external: [...localOnlyModules],
  mainFields: ['module', 'main'],
  // Every output file gets it, chunks included: the CommonJS packages inlined in a chunk call `require`.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
} as const satisfies BuildOptions;

/**
 * Builds `entry` into `outputDir` as `index.mjs` plus chunks: code reached only through a
 * dynamic `import()` (an SDK a task needs on first use) lands in a chunk that Node reads
 * when that import first runs, not at init. NodejsFunction cannot do this (it passes
 * `--outfile`, which esbuild refuses with `splitting`), hence this build of our own. The
 * metafile is kept out of the asset, in the assembly beside it (infra/bundle-metafile.ts).
 */
export function bundleFunction(entry: string, outputDir: string, copy: readonly FileCopy[] = []): void {
  const { metafile } = buildSync({
    ...bundleSettings,
    entryPoints: { index: join(projectRoot, entry) },
    absWorkingDir: projectRoot,
    outdir: outputDir,
    outExtension: { '.js': '.mjs' },
    splitting: true,
    chunkNames: '[name]-[hash]',
    sourcemap: true,
    sourcesContent: false,
    metafile: true,
    logLevel: 'warning',
  });
  for (const { from, to } of copy) cpSync(join(projectRoot, from), join(outputDir, to), { recursive: true });
  // CDK bundles into `<assembly>/bundling-temp-…-building`, then moves it to `asset.<hash>`.
  writeMetafile(dirname(outputDir), outputDir, metafile, projectRoot);
}

/** CDK's bundling hook for bundleFunction. Its fields key CDK's asset cache (JSON of the options), so each entry gets its own build. */
class EsbuildBundling implements BundlingOptions {
  // Never pulled: the local build succeeds or throws.
  readonly image = DockerImage.fromRegistry('none');
  readonly entry: string;
  readonly copy: readonly FileCopy[];
  readonly local: ILocalBundling;

  constructor(entry: string, copy: readonly FileCopy[]) {
    this.entry = entry;
    this.copy = copy;
    this.local = {
      tryBundle(outputDir) {
        bundleFunction(entry, outputDir, copy);
        return true;
      },
    };
  }
}

/** A folder or file copied from the project root into the asset, beside the code. */
export interface FileCopy {
  readonly from: string;
  readonly to: string;
}

export interface TaskFunctionProps extends Omit<FunctionProps, 'code' | 'handler' | 'runtime' | 'architecture' | 'logGroup'> {
  /** Path from the project root, e.g. `functions/consumer-ai.ts`. */
  readonly entry: string;
  readonly removalPolicy: RemovalPolicy;
  /** What the function reads beside its code at run time. @default none */
  readonly copy?: readonly FileCopy[];
}

/** A Node 24 arm64 function bundled locally by esbuild (no Docker), with source maps and a log group whose retention is set. */
export class TaskFunction extends LambdaFunction {
  constructor(scope: Construct, id: string, props: TaskFunctionProps) {
    const { entry, removalPolicy, environment, copy = [], ...rest } = props;
    const logGroup = new LogGroup(scope, `${id}Logs`, { retention: RetentionDays.ONE_MONTH, removalPolicy });
    // The asset's hash is its output's, so the same code gives the same asset.
    const code = Code.fromAsset(projectRoot, { assetHashType: AssetHashType.OUTPUT, bundling: new EsbuildBundling(entry, copy) });
    super(scope, id, {
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      handler: 'index.handler',
      code,
      logGroup,
      timeout: Duration.seconds(30),
      ...rest,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...environment },
    });
    if (this.role) {
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: "AWSLambdaBasicExecutionRole only lets the function write its own CloudWatch logs (CreateLogStream, PutLogEvents); it is AWS's minimal logging policy.",
      });
    }
  }
}
