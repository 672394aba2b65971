import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { laneName, queueNames, type LaneName, type QueueName } from '../catalogue/index.ts';
import { createSqsClient } from '../aws.ts';
import { laneUrlsOf, TaskOperations, type QueueEndpoints } from '../operations/index.ts';
import { LambdaEventSources } from '../operations/lambda-event-sources.ts';
import { LongDelayScheduler } from '../producer/long-delay.ts';
import { openDatabase } from '../results/database.ts';
import { directBackend, UnreachableError, type Backend } from './backend.ts';

/**
 * A deployed stage, found from what its stack publishes: queue URLs in SSM
 * (`/datacleanup/<stage>/queues/…`) and the result store's ARNs in the stack outputs.
 */
export async function stageBackend(stage: string, region: string | undefined): Promise<Backend> {
  // No client is given an endpoint: the SDK reads AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> itself for each.
  const clientConfig = region ? { region } : {};
  const ssm = new SSMClient(clientConfig);
  const cloudFormation = new CloudFormationClient(clientConfig);
  try {
    const parameters = new Map<string, string>();
    let next: string | undefined;
    do {
      const page = await ssm.send(new GetParametersByPathCommand({ Path: `/datacleanup/${stage}/`, Recursive: true, ...(next ? { NextToken: next } : {}) }));
      for (const parameter of page.Parameters ?? []) parameters.set(parameter.Name!, parameter.Value!);
      next = page.NextToken;
    } while (next);
    const queues: Partial<Record<QueueName, QueueEndpoints>> = {};
    const laneOf = (lane: LaneName) => {
      const url = parameters.get(`/datacleanup/${stage}/queues/${lane}/url`);
      const deadLetterUrl = parameters.get(`/datacleanup/${stage}/queues/${lane}/dlq-url`);
      return url && deadLetterUrl ? { url, deadLetterUrl } : undefined;
    };
    for (const name of queueNames) {
      const [normal, highPriority] = [laneOf(laneName(name)), laneOf(laneName(name, 'high'))];
      if (normal) queues[name] = { ...normal, ...(highPriority ? { highPriority } : {}) };
    }
    if (Object.keys(queues).length === 0) throw new UnreachableError(`no queues are published under /datacleanup/${stage}/queues/: is stage ${stage} deployed in this account and region?`);
    const { Stacks = [] } = await cloudFormation.send(new DescribeStacksCommand({ StackName: `DataCleanupTasks-${stage}` }));
    const outputs = new Map((Stacks[0]?.Outputs ?? []).map((output) => [output.OutputKey!, output.OutputValue!]));
    const resourceArn = outputs.get('ResultStoreClusterArn');
    const secretArn = outputs.get('ResultStoreSecretArn');
    if (!resourceArn || !secretArn) throw new UnreachableError(`stack DataCleanupTasks-${stage} has no result store outputs`);
    const resolvedRegion = await ssm.config.region();
    // Results too large for a row are read from the files bucket, as the consumers keep them there.
    const filesBucket = outputs.get('FilesBucketName');
    const database = await openDatabase({
      kind: 'data-api', resourceArn, secretArn, database: 'tasks', region: resolvedRegion,
      ...(filesBucket ? { resultsBucket: { bucket: filesBucket, region: resolvedRegion } } : {}),
    });
    // AWS itself: the SDK's credential chain, never an emulator's fixed credentials.
    const sqs = createSqsClient({ region: resolvedRegion, endpoint: undefined, ownCredentials: true });
    const groupName = parameters.get(`/datacleanup/${stage}/task-etas/group`);
    const roleArn = parameters.get(`/datacleanup/${stage}/task-etas/role-arn`);
    const queueUrls = laneUrlsOf(queues);
    const longDelays = groupName && roleArn ? new LongDelayScheduler({ client: new SchedulerClient({ region: resolvedRegion }), region: resolvedRegion, groupName, roleArn, queueUrls }) : null;
    // Each consumer's event source mapping, found by the function the stack names `<stage>-consumer-<queue>`.
    const eventSources = new LambdaEventSources({ region: resolvedRegion, functionOf: (queue) => `${stage}-consumer-${queue}` });
    return directBackend(new TaskOperations({ sqs, database, queues, longDelays, eventSources }), async () => {
      eventSources.close();
      sqs.destroy();
      await database.close();
    });
  } catch (error) {
    if (error instanceof UnreachableError) throw error;
    throw new UnreachableError(`cannot reach stage ${stage} in AWS: ${(error as Error).message}`);
  } finally {
    ssm.destroy();
    cloudFormation.destroy();
  }
}
