import { Duration, Validations } from 'aws-cdk-lib';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { RemovalPolicy } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { fileURLToPath } from 'node:url';

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

/** Node 24 on Graviton, bundled by the local esbuild (no Docker), minified with source maps. */
export function lambdaDefaults(): Pick<NodejsFunctionProps, 'runtime' | 'architecture' | 'bundling' | 'projectRoot' | 'depsLockFilePath'> {
  return {
    runtime: Runtime.NODEJS_24_X,
    architecture: Architecture.ARM_64,
    projectRoot,
    depsLockFilePath: `${projectRoot}package-lock.json`,
    bundling: {
      format: OutputFormat.ESM,
      target: 'node24',
      minify: true,
      sourceMap: true,
      sourcesContent: false,
      // index.meta.json beside the bundle: what went in, which `npm run synth` checks against each bundle's budget.
      metafile: true,
      forceDockerBundling: false,
      // The local-only drivers never run in Lambda, and drizzle's adapters for them stay external too: esbuild
      // hoists an inlined module's imports to the top of the bundle, so an inlined `drizzle-orm/pglite` would
      // make the bundle import `@electric-sql/pglite` at load and fail. The SDK is bundled so its version is ours.
      externalModules: [...localOnlyModules],
      mainFields: ['module', 'main'],
      banner: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
  };
}

export interface TaskFunctionProps extends Omit<NodejsFunctionProps, 'entry' | 'logGroup'> {
  /** Path from the project root, e.g. `functions/consumer-ai.ts`. */
  readonly entry: string;
  readonly removalPolicy: RemovalPolicy;
}

/** A NodejsFunction with the project's defaults and a log group whose retention is set. */
export class TaskFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: TaskFunctionProps) {
    const { entry, removalPolicy, environment, ...rest } = props;
    const logGroup = new LogGroup(scope, `${id}Logs`, { retention: RetentionDays.ONE_MONTH, removalPolicy });
    const defaults = lambdaDefaults();
    super(scope, id, {
      ...defaults,
      entry: `${projectRoot}${entry}`,
      handler: 'handler',
      logGroup,
      timeout: Duration.seconds(30),
      ...rest,
      bundling: { ...defaults.bundling, ...rest.bundling },
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
