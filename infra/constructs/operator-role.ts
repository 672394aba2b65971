import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { AccountPrincipal, PolicyStatement, Role } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { ResultStore } from './result-store.ts';
import type { LongDelays } from './schedules.ts';
import type { FileStorage } from './storage.ts';
import type { TaskQueue } from './task-queue.ts';

export interface OperatorRoleProps {
  readonly stage: string;
  readonly queues: readonly TaskQueue[];
  readonly resultStore: ResultStore;
  readonly files: FileStorage;
  readonly longDelays: LongDelays;
}

/**
 * What `taskq --stage <stage>` needs and nothing more, as a role people of this account
 * assume (their own policy must allow `sts:AssumeRole` on it): find the stage (its SSM
 * parameters and stack outputs), send, inspect and purge its queues and dead letters, read,
 * revoke, retry and purge results through the Data API (and delete what the purged ones kept
 * in the results bucket), manage long ETAs' schedules, and pause or resume exactly this
 * stage's consumers (their event source mappings).
 */
export class OperatorRole extends Construct {
  readonly role: Role;

  constructor(scope: Construct, id: string, props: OperatorRoleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.role = new Role(this, 'Role', {
      assumedBy: new AccountPrincipal(stack.account),
      description: `taskq --stage ${props.stage}: send, inspect, control and purge this stage's tasks`,
      maxSessionDuration: Duration.hours(1),
    });
    const role = this.role;
    role.addToPolicy(new PolicyStatement({
      actions: ['ssm:GetParametersByPath'],
      resources: [stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `datacleanup/${props.stage}/*` })],
    }));
    role.addToPolicy(new PolicyStatement({ actions: ['cloudformation:DescribeStacks'], resources: [stack.stackId] }));
    // One statement per kind of resource across every lane: a grant per queue would outgrow a role's inline policy.
    const lanes = props.queues.flatMap((taskQueue) => taskQueue.lanes);
    const consume = ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:PurgeQueue'];
    role.addToPolicy(new PolicyStatement({ actions: ['sqs:SendMessage', ...consume], resources: lanes.map((lane) => lane.queue.queueArn) }));
    role.addToPolicy(new PolicyStatement({ actions: [...consume, 'sqs:StartMessageMoveTask', 'sqs:ListMessageMoveTasks'], resources: lanes.map((lane) => lane.deadLetterQueue.queueArn) }));
    role.addToPolicy(new PolicyStatement({ actions: ['lambda:UpdateEventSourceMapping'], resources: lanes.map((lane) => lane.eventSourceMappingArn) }));
    props.resultStore.grantDataApiAccess(role);
    props.files.grantResultOverflowPurge(role);
    props.files.grantPayloads(role, 'producer');
    props.longDelays.grantScheduling(role);
    // Neither listing has a resource to scope it to; what the lists lead to is scoped above.
    role.addToPolicy(new PolicyStatement({ actions: ['lambda:ListEventSourceMappings', 'scheduler:ListSchedules'], resources: ['*'] }));
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'lambda:ListEventSourceMappings and scheduler:ListSchedules take no resource; updating a mapping and reading or deleting a schedule are scoped to this stage.',
    });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/datacleanup/${props.stage}/*]`,
      reason: "taskq reads the stage's parameters by path: every name under the stage's own prefix.",
    });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${props.longDelays.group.scheduleGroupName}/*]`,
      reason: 'One-time schedules are named after task ids, known only at run time; the grant is limited to the stage\'s ETA group.',
    });
  }
}
