import { rmSync } from 'node:fs';
import { S3Client } from '@aws-sdk/client-s3';
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import '../../shared/local/fauxqs-fixes.ts';
import type { EventSourcePoller, InvocationReport } from '../../shared/local/poller.ts';
import { openDatabase, type Database } from '../../shared/results/database.ts';
import { startDataApiDouble } from '../support/data-api.ts';
import { startOpenAiFixture } from '../support/openai-fixture.ts';
import { startStripeFixture } from '../support/stripe-fixture.ts';
import { resourcesOfType, synthesizeStage, type Assembly } from './assembly.ts';
import { account, localValues, region, type LocalValues } from './environment.ts';
import { credentialsOf, eventSources, functionSpec, startEventSource } from './functions.ts';
import { roleOfFunction, rolePolicies } from './policies.ts';
import { isolatedWorkRoot, LambdaFunction } from './runtime.ts';
import { startAwsFront } from './stand-ins/aws-front.ts';
import { CloudFormationStandIn } from './stand-ins/cloudformation.ts';
import { startFunctionUrl } from './stand-ins/function-url.ts';
import { LambdaStandIn, type StandInMapping } from './stand-ins/lambda.ts';
import { ParameterStoreStandIn } from './stand-ins/parameter-store.ts';
import { createBuckets, createQueues } from './stand-ins/provision.ts';
import { startSchedulerStandIn } from './stand-ins/scheduler.ts';
import { SecretsManagerStandIn } from './stand-ins/secrets-manager.ts';

/** The values the rehearsal pastes into the API secrets, as an operator does after a deploy; the fixtures accept them. */
export const testSecrets = { 'stripe-api-key': 'sk_test_rehearsal', 'stripe-webhook-secret': 'whsec_rehearsal_signing_secret', 'openai-api-key': 'sk-test-local' } as const;

const operatorKey = 'rehearsal-operator';
/** The key of a session of the stack's operator role, as `taskq --stage` runs with. */
const operatorRoleKey = 'rehearsal-operator-role';

export type Rehearsal = Awaited<ReturnType<typeof startRehearsal>>;

/**
 * The stack as shipped, on one machine: a fresh synth of the stage, every function bundle
 * in an isolated copy behind its trigger (SQS event source, function URL, CDK trigger), and
 * stand-ins for the AWS APIs the bundles call, every call checked against the caller's role.
 */
export async function startRehearsal(options: { stage?: string; onProgress?: (step: string) => void } = {}) {
  const progress = options.onProgress ?? (() => undefined);
  const cleanups: (() => Promise<void> | void)[] = [];
  try {
    progress('cdk synth');
    const assembly: Assembly & { remove(): void } = synthesizeStage(options.stage ?? 'dev');
    cleanups.push(() => assembly.remove());

    progress('stand-ins');
    const dataApi = await startDataApiDouble();
    cleanups.push(() => dataApi.stop());
    const emulator = await startFauxqs({ port: 0, logger: false });
    cleanups.push(() => emulator.stop());
    const [openai, stripe] = await Promise.all([startOpenAiFixture(), startStripeFixture()]);
    cleanups.push(() => openai.stop(), () => stripe.stop());

    // Queue URLs name the front, which is started before anything reads them.
    let frontEndpoint = '';
    const values: LocalValues = localValues(assembly.template, {
      stackName: assembly.stackName,
      queueUrl: (name) => `${frontEndpoint}/${account}/${name}`,
      clusterArn: dataApi.target.resourceArn,
      clusterSecretArn: dataApi.target.secretArn,
    });
    const secrets = SecretsManagerStandIn.fromTemplate(assembly.template, values);
    if (!secrets.find(dataApi.target.secretArn)) secrets.add('cluster-admin', dataApi.target.secretArn, JSON.stringify({ username: 'tasks_admin', password: 'local' }));
    const parameters = new ParameterStoreStandIn(assembly.template, values, { region, account });
    // Function URLs start last; the stack's outputs name them once they have.
    const functionUrlOf = new Map<string, string>();
    const outputValues: LocalValues = {
      ref: values.ref,
      attribute: (id, name) => (name === 'FunctionUrl' && functionUrlOf.has(id) ? functionUrlOf.get(id)! : values.attribute(id, name)),
    };
    const cloudFormation = new CloudFormationStandIn({ stackName: assembly.stackName, template: assembly.template, values: outputValues, region, account });
    const scheduler = await startSchedulerStandIn(assembly.template, values, { region, account });
    cleanups.push(() => scheduler.stop());
    const lambda = new LambdaStandIn();
    const front = await startAwsFront({ account, emulatorPort: emulator.port, dataApiEndpoint: dataApi.endpoint, secrets, parameters, cloudFormation, schedulerEndpoint: scheduler.endpoint, lambda });
    cleanups.push(() => front.stop());
    frontEndpoint = front.endpoint;
    front.allowOperator(operatorKey);
    const operatorRole = resourcesOfType(assembly.template, 'AWS::IAM::Role').find(([id]) => id.startsWith('OperatorsRole'))?.[0];
    if (!operatorRole) throw new Error('the stack has no operator role for taskq');
    front.allow(operatorRoleKey, 'taskq', rolePolicies(assembly.template, operatorRole, values));

    const operatorCredentials = { accessKeyId: operatorKey, secretAccessKey: 'operator', sessionToken: 'operator' };
    const operatorRoleCredentials = { accessKeyId: operatorRoleKey, secretAccessKey: 'operator-role', sessionToken: 'operator-role' };
    const operator = {
      sqs: new SQSClient({ region, endpoint: front.endpoint, credentials: operatorCredentials }),
      s3: new S3Client({ region, endpoint: front.endpoint, forcePathStyle: true, credentials: operatorCredentials }),
      secrets: new SecretsManagerClient({ region, endpoint: front.endpoint, credentials: operatorCredentials }),
    };
    cleanups.push(() => Object.values(operator).forEach((client) => client.destroy()));

    progress('queues, bucket and secrets from the template');
    const queueUrls = await createQueues(assembly.template, values, operator.sqs);
    const buckets = await createBuckets(assembly.template, values, operator.s3);
    for (const [id] of resourcesOfType(assembly.template, 'AWS::SecretsManager::Secret')) {
      const name = Object.keys(testSecrets).find((key) => values.ref(id).includes(`/${key}-`)) as keyof typeof testSecrets | undefined;
      if (name) await operator.secrets.send(new PutSecretValueCommand({ SecretId: values.ref(id), SecretString: testSecrets[name] }));
    }
    const database: Database = await openDatabase(dataApi.target);
    cleanups.push(() => database.close());

    progress('functions from isolated copies');
    const workRoot = isolatedWorkRoot();
    cleanups.push(() => rmSync(workRoot, { recursive: true, force: true }));
    // The only variables added to the template's: where each service lives. The template leaves them unset, so
    // in AWS every SDK goes to the real service: AWS_ENDPOINT_URL_* and OPENAI_BASE_URL are read by the SDKs
    // themselves; the Stripe SDK reads no variable, so STRIPE_API_BASE is ours (shared/billing/stripe.ts).
    const endpoints = {
      AWS_ENDPOINT_URL_SQS: front.endpoint,
      AWS_ENDPOINT_URL_S3: front.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: front.endpoint,
      AWS_ENDPOINT_URL_RDS_DATA: front.endpoint,
      AWS_ENDPOINT_URL_SCHEDULER: front.endpoint,
      OPENAI_BASE_URL: openai.baseUrl,
      STRIPE_API_BASE: stripe.url,
    };
    const functions = new Map<string, LambdaFunction>();
    for (const definition of assembly.functions) {
      const fn = new LambdaFunction(functionSpec(definition, values), { credentials: credentialsOf(definition.logicalId), endpoints, workRoot });
      functions.set(definition.logicalId, fn);
      cleanups.push(() => fn.stop());
      front.allow(definition.logicalId, fn.spec.name, rolePolicies(assembly.template, roleOfFunction(definition.properties), values));
    }
    for (const [, schedule] of resourcesOfType(assembly.template, 'AWS::Scheduler::Schedule')) {
      const role = ((schedule.Properties?.Target as { RoleArn?: { 'Fn::GetAtt'?: [string] } }).RoleArn?.['Fn::GetAtt'] ?? [])[0];
      if (role) front.allow(role, role, rolePolicies(assembly.template, role, values));
    }

    const invocations: (InvocationReport & { function: string })[] = [];
    const mappings: StandInMapping[] = [];
    for (const source of eventSources(assembly, values)) {
      const fn = functions.get(source.functionLogicalId)!;
      const url = [...queueUrls.entries()].find(([id]) => values.attribute(id, 'Arn') === source.queueArn)?.[1];
      if (!url) throw new Error(`event source of ${fn.spec.name}: no queue ${source.queueArn}`);
      const poller: EventSourcePoller = startEventSource(source, fn, url, front.endpoint, (report) => invocations.push({ ...report, function: fn.spec.name }));
      const mapping: StandInMapping = { uuid: source.uuid, functionArn: fn.spec.arn, settings: source, poller };
      mappings.push(mapping);
      lambda.add(mapping);
    }
    cleanups.push(() => Promise.all(mappings.map(({ poller }) => poller.stop())).then(() => undefined));

    const functionUrls = new Map<string, string>();
    for (const [id, resource] of resourcesOfType(assembly.template, 'AWS::Lambda::Url')) {
      const target = (resource.Properties?.TargetFunctionArn as { 'Fn::GetAtt'?: [string] })['Fn::GetAtt']?.[0];
      const fn = target && functions.get(target);
      if (!fn) throw new Error(`${id} targets a function outside the template`);
      const url = await startFunctionUrl(fn, { urlId: id.toLowerCase().slice(0, 32), region, accountId: account });
      cleanups.push(() => url.stop());
      functionUrls.set(target, url.url);
      functionUrlOf.set(id, url.url);
    }

    return {
      assembly,
      values,
      front,
      secrets,
      scheduler: scheduler.api,
      dataApi,
      database,
      operator,
      /** A session of the stack's operator role: what `taskq --stage` is given, every call checked. */
      operatorRoleCredentials,
      fixtures: { openai, stripe },
      functions,
      functionUrls,
      invocations,
      queueUrls,
      buckets,
      workRoot,
      /** A function by its logical id's start, e.g. `DefaultTasksConsumer`. */
      fn(prefix: string): LambdaFunction {
        const found = [...functions.entries()].find(([id]) => id.startsWith(prefix))?.[1];
        if (!found) throw new Error(`no function ${prefix}* in the template`);
        return found;
      },
      /** A queue's URL by its physical name, e.g. `dev-default`. */
      queueUrl(name: string): string {
        const found = [...queueUrls.values()].find((url) => url.endsWith(`/${name}`));
        if (!found) throw new Error(`no queue ${name} in the template`);
        return found;
      },
      stop: () => runCleanups(cleanups),
    };
  } catch (error) {
    await runCleanups(cleanups);
    throw error;
  }
}

async function runCleanups(cleanups: (() => Promise<void> | void)[]): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch (error) {
      console.warn('rehearsal clean-up:', error);
    }
  }
}
