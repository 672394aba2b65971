import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { stageSettings } from './stage.ts';
import { TaskPlatformStack } from './task-platform-stack.ts';

const app = new App();
const stage = stageSettings((key) => app.node.tryGetContext(key));
const account = app.node.tryGetContext('account') ?? process.env.CDK_DEFAULT_ACCOUNT;
const region = app.node.tryGetContext('region') ?? process.env.CDK_DEFAULT_REGION;

new TaskPlatformStack(app, `DataCleanupTasks-${stage.name}`, {
  stage,
  description: `DataCleanup Pro task platform (${stage.name}): SQS queues, Lambda consumers, EventBridge schedules, Aurora result store`,
  ...(account && region ? { env: { account, region } } : {}),
  tags: { project: 'datacleanup-tasks', stage: stage.name },
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
