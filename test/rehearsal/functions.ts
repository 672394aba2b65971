import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { EventSourcePoller, type InvocationReport } from '../../shared/local/poller.ts';
import { resourcesOfType, type Assembly, type FunctionDefinition } from './assembly.ts';
import { region, resolve, templateEnvironment, type LocalValues } from './environment.ts';
import type { FunctionSpec, LambdaFunction, Outcome } from './runtime.ts';

/** A function's template entry as the runtime needs it, with Lambda's defaults where the template leaves one out. */
export function functionSpec(definition: FunctionDefinition, values: LocalValues): FunctionSpec {
  const properties = definition.properties;
  const logGroup = (properties.LoggingConfig as { LogGroup?: unknown } | undefined)?.LogGroup;
  const name = values.ref(definition.logicalId);
  return {
    logicalId: definition.logicalId,
    name,
    arn: values.attribute(definition.logicalId, 'Arn'),
    handler: String(properties.Handler),
    runtime: String(properties.Runtime),
    // Lambda's defaults: 3 s and 128 MB (https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html).
    timeoutSeconds: Number(properties.Timeout ?? 3),
    memoryMb: Number(properties.MemorySize ?? 128),
    logGroupName: logGroup ? String(resolve(logGroup, values)) : `/aws/lambda/${name}`,
    region,
    variables: templateEnvironment(properties, values),
    assetDir: definition.assetDir,
  };
}

/** Each function's own credentials: the access key id is its logical id, so every call names its caller. */
export const credentialsOf = (logicalId: string) => ({ accessKeyId: logicalId, secretAccessKey: `secret-of-${logicalId}`, sessionToken: `session-of-${logicalId}` });

/** Lambda's SQS event source mapping as the template configures it. */
export interface EventSourceSettings {
  /** The mapping's id, its Ref. */
  readonly uuid: string;
  readonly functionLogicalId: string;
  readonly queueArn: string;
  readonly batchSize: number;
  readonly batchingWindowSeconds: number;
  /** The pollers run here. */
  readonly maxConcurrency: number;
  /** The template's `ScalingConfig.MaximumConcurrency`, when it sets one. */
  readonly scalingMaximumConcurrency: number | undefined;
  readonly reportBatchItemFailures: boolean;
}

/** The template's SQS event source mappings, with Lambda's defaults for what they leave out. */
export function eventSources(assembly: Assembly, values: LocalValues): EventSourceSettings[] {
  return resourcesOfType(assembly.template, 'AWS::Lambda::EventSourceMapping').map(([id, resource]) => {
    const properties = resource.Properties ?? {};
    const functionName = properties.FunctionName as { Ref?: string };
    if (!functionName.Ref) throw new Error('an event source mapping names a function outside the template');
    const scaling = (properties.ScalingConfig as { MaximumConcurrency?: number } | undefined)?.MaximumConcurrency;
    return {
      functionLogicalId: functionName.Ref,
      uuid: values.ref(id),
      queueArn: String(resolve(properties.EventSourceArn, values)),
      // https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html: SQS's default batch is 10, no window.
      batchSize: Number(properties.BatchSize ?? 10),
      batchingWindowSeconds: Number(properties.MaximumBatchingWindowInSeconds ?? 0),
      // Without ScalingConfig the mapping scales to the account's concurrency; two pollers is plenty here.
      maxConcurrency: Number(scaling ?? 2),
      scalingMaximumConcurrency: scaling,
      reportBatchItemFailures: ((properties.FunctionResponseTypes as string[] | undefined) ?? []).includes('ReportBatchItemFailures'),
    };
  });
}

/**
 * The mapping's pollers (shared/local/poller.ts: receive, batch window, concurrency,
 * delete what the response does not name as failed), reading the queue with the
 * function's own role as Lambda does, and invoking the isolated bundle.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
 */
export function startEventSource(settings: EventSourceSettings, fn: LambdaFunction, queueUrl: string, endpoint: string, onReport: (report: InvocationReport) => void): EventSourcePoller {
  const sqs = new SQSClient({ region, endpoint, credentials: credentialsOf(settings.functionLogicalId) });
  const poller = new EventSourcePoller({
    sqs,
    queueUrl,
    queueArn: settings.queueArn,
    region,
    functionName: fn.spec.name,
    batchSize: settings.batchSize,
    batchingWindowSeconds: settings.batchingWindowSeconds,
    maxConcurrency: settings.maxConcurrency,
    timeoutSeconds: fn.spec.timeoutSeconds,
    memoryMb: fn.spec.memoryMb,
    handler: async (event) => {
      const outcome: Outcome = await fn.invoke(event);
      if (outcome.kind !== 'response') throw new Error(`${fn.spec.name}: ${outcome.kind === 'error' ? `${outcome.errorType}: ` : ''}${outcome.errorMessage}`);
      // Without ReportBatchItemFailures the mapping ignores the response: a returned invocation succeeded in full.
      return settings.reportBatchItemFailures ? (outcome.payload as SQSBatchResponse) : undefined;
    },
    onInvocation: onReport,
    onError: (error) => onReport({ records: 0, failed: 0, outcome: 'error', durationMs: 0, error }),
  });
  poller.start();
  return poller;
}
