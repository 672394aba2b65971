import { Duration, Stack, Validations, type RemovalPolicy } from 'aws-cdk-lib';
import { Grant, Role, ServicePrincipal, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { ContextAttribute, Schedule, ScheduleExpression, ScheduleGroup, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { SqsSendMessage } from 'aws-cdk-lib/aws-scheduler-targets';
import { Queue, QueueEncryption, type IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ScheduleDefinition, TaskDefinition } from '../../shared/catalogue/index.ts';
import { scheduledEnvelope } from '../../shared/scheduling.ts';

export interface TaskSchedulesProps {
  readonly stage: string;
  readonly removalPolicy: RemovalPolicy;
  readonly schedules: readonly ScheduleDefinition[];
  readonly tasks: Readonly<Record<string, TaskDefinition>>;
  /** The queue of the lane a task's sends go to. */
  readonly queueOf: (task: TaskDefinition) => IQueue;
}

/**
 * Celery Beat as EventBridge Scheduler: one schedule per catalogue entry, each sending
 * an envelope to its task's queue. The task id is the schedule's name and the scheduled
 * time, so a firing delivered twice runs once.
 */
export class TaskSchedules extends Construct {
  readonly group: ScheduleGroup;
  readonly deadLetterQueue: Queue;
  readonly schedules: Schedule[];

  constructor(scope: Construct, id: string, props: TaskSchedulesProps) {
    super(scope, id);
    this.group = new ScheduleGroup(this, 'Group', { scheduleGroupName: `${props.stage}-datacleanup-tasks`, removalPolicy: props.removalPolicy });
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      queueName: `${props.stage}-schedules-dlq`,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: "This queue is the schedules' dead-letter queue (Scheduler's DeadLetterConfig), which cdk-nag does not recognise as one.",
    });
    this.schedules = props.schedules.map((schedule) => {
      const task = props.tasks[schedule.task];
      if (!task) throw new Error(`schedule ${schedule.name}: unknown task ${schedule.task}`);
      return new Schedule(this, schedule.name, {
        scheduleName: `${props.stage}-${schedule.name}`,
        description: schedule.description,
        scheduleGroup: this.group,
        schedule: ScheduleExpression.expression(schedule.expression),
        target: new SqsSendMessage(props.queueOf(task), {
          input: ScheduleTargetInput.fromObject(scheduledEnvelope({ ...schedule, task: task.name }, ContextAttribute.scheduledTime)),
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 5,
          maxEventAge: Duration.hours(1),
        }),
      });
    });
  }
}

export interface LongDelaysProps {
  readonly stage: string;
  readonly removalPolicy: RemovalPolicy;
  readonly queues: readonly IQueue[];
  /** Where Scheduler puts a message it could not deliver (the recurring schedules' DLQ, with its alarm). */
  readonly deadLetterQueue: IQueue;
}

/**
 * Countdowns and ETAs beyond SQS's 15 minutes: producers create a one-time `at()` schedule
 * per task in this group (shared/producer/long-delay.ts), and Scheduler sends the message
 * with this role when the time comes, then deletes the schedule.
 */
export class LongDelays extends Construct {
  readonly group: ScheduleGroup;
  readonly role: Role;
  readonly deadLetterQueue: IQueue;

  constructor(scope: Construct, id: string, props: LongDelaysProps) {
    super(scope, id);
    this.group = new ScheduleGroup(this, 'Group', { scheduleGroupName: `${props.stage}-task-etas`, removalPolicy: props.removalPolicy });
    this.deadLetterQueue = props.deadLetterQueue;
    const account = Stack.of(this).account;
    this.role = new Role(this, 'SchedulerRole', {
      // Scheduler sets aws:SourceArn to the schedule *group*'s ARN, never a schedule's: a condition on
      // `schedule/<group>/*` matches nothing and the role cannot be assumed.
      // https://docs.aws.amazon.com/scheduler/latest/UserGuide/cross-service-confused-deputy-prevention.html
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': account, 'aws:SourceArn': this.group.scheduleGroupArn } },
      }),
      description: 'EventBridge Scheduler sends long-delayed tasks to their queues',
    });
    for (const queue of props.queues) queue.grantSendMessages(this.role);
    props.deadLetterQueue.grantSendMessages(this.role);
  }

  /** What a producer's code reads (shared/config.ts). */
  environment(): Record<string, string> {
    return { TASK_ETA_SCHEDULE_GROUP: this.group.scheduleGroupName, TASK_ETA_ROLE_ARN: this.role.roleArn, TASK_ETA_DLQ_ARN: this.deadLetterQueue.queueArn };
  }

  /** Lets a producer create and delete its tasks' one-time schedules, and hand Scheduler the role. */
  grantScheduling(grantee: IGrantable): void {
    Grant.addToPrincipal({ grantee, actions: ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule', 'scheduler:GetSchedule'], resourceArns: [this.schedulesArn()] });
    this.role.grantPassRole(grantee.grantPrincipal);
  }

  /** Every schedule in the group: their names are task-id digests, not known in advance. */
  schedulesArn(): string {
    return Stack.of(this).formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${this.group.scheduleGroupName}/*` });
  }
}
