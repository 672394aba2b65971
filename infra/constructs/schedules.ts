import { Duration, Validations, type RemovalPolicy } from 'aws-cdk-lib';
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
  readonly queueOf: (queue: string) => IQueue;
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
        target: new SqsSendMessage(props.queueOf(task.queue), {
          input: ScheduleTargetInput.fromObject(scheduledEnvelope({ ...schedule, task: task.name }, ContextAttribute.scheduledTime)),
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 5,
          maxEventAge: Duration.hours(1),
        }),
      });
    });
  }
}
