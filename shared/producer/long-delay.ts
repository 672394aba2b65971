import { createHash } from 'node:crypto';
import { ConflictException, CreateScheduleCommand, DeleteScheduleCommand, GetScheduleCommand, ListSchedulesCommand, ResourceNotFoundException, SchedulerClient } from '@aws-sdk/client-scheduler';
import { localCredentials } from '../aws.ts';
import type { LaneName } from '../catalogue/index.ts';
import type { Config } from '../config.ts';
import type { TaskMessage } from './send.ts';

export interface LongDelaySettings {
  readonly client: SchedulerClient;
  /** The region of a queue whose URL does not say it (an emulator's). */
  readonly region: string;
  /** The schedule group of one-time task schedules (the stack's `<stage>-task-etas`). */
  readonly groupName: string;
  /** The role EventBridge Scheduler assumes to send to the task queues. */
  readonly roleArn: string;
  /** Where Scheduler puts a message it could not deliver. */
  readonly deadLetterArn?: string;
  /** Queue URLs by lane; a schedule targets the lane's ARN, derived from its URL. */
  readonly queueUrls: Partial<Record<LaneName, string>>;
}

/**
 * Countdowns and ETAs beyond SQS's 15-minute `DelaySeconds`: a one-time EventBridge
 * Scheduler `at()` schedule sends the message at its ETA and deletes itself. The schedule
 * is named after the task id, so sending twice creates it once and revoking finds it.
 */
export class LongDelayScheduler {
  readonly #settings: LongDelaySettings;

  constructor(settings: LongDelaySettings) {
    this.#settings = settings;
  }

  /** Creates the schedule that sends `message` at its ETA; false when it already existed. */
  async schedule(message: TaskMessage): Promise<boolean> {
    const { client, groupName, roleArn, queueUrls, region } = this.#settings;
    const queueUrl = queueUrls[message.lane];
    if (!queueUrl) throw new Error(`no URL known for queue ${message.lane}`);
    if (!message.envelope.eta) throw new Error('only a message with an ETA can be scheduled');
    try {
      await client.send(
        new CreateScheduleCommand({
          Name: scheduleNameOf(message.envelope.id),
          GroupName: groupName,
          Description: `${message.envelope.task} ${message.envelope.id}`.slice(0, 512),
          ScheduleExpression: `at(${atTime(message.envelope.eta)})`,
          ScheduleExpressionTimezone: 'UTC',
          FlexibleTimeWindow: { Mode: 'OFF' },
          ActionAfterCompletion: 'DELETE',
          Target: {
            Arn: queueArnOf(queueUrl, region),
            RoleArn: roleArn,
            Input: message.body,
            // Scheduler's own retries if SQS refuses for a while; the message must not be lost.
            RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
            ...(this.#settings.deadLetterArn ? { DeadLetterConfig: { Arn: this.#settings.deadLetterArn } } : {}),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConflictException) return false;
      throw error;
    }
  }

  /**
   * The one-time schedules waiting to send a task, up to `limit`: ListSchedules names them,
   * and only GetSchedule tells a schedule's time and message, so each is read (a few at a
   * time, within Scheduler's request rates). A schedule that fires meanwhile is left out.
   */
  async pending(limit: number): Promise<PendingSchedule[]> {
    const { client, groupName } = this.#settings;
    const names: string[] = [];
    let next: string | undefined;
    do {
      const page = await client.send(new ListSchedulesCommand({ GroupName: groupName, State: 'ENABLED', MaxResults: 100, ...(next ? { NextToken: next } : {}) }));
      names.push(...(page.Schedules ?? []).map((schedule) => schedule.Name!));
      next = page.NextToken;
    } while (next && names.length < limit);
    const found: PendingSchedule[] = [];
    const wanted = names.slice(0, limit);
    for (let start = 0; start < wanted.length; start += 4) {
      const read = await Promise.all(wanted.slice(start, start + 4).map(async (name) => {
        try {
          const schedule = await client.send(new GetScheduleCommand({ Name: name, GroupName: groupName }));
          const at = /^at\((.+)\)$/.exec(schedule.ScheduleExpression ?? '')?.[1];
          return [{ name, at: at ? new Date(`${at}Z`).toISOString() : null, targetArn: schedule.Target?.Arn ?? '', input: schedule.Target?.Input ?? '' }];
        } catch (error) {
          if (error instanceof ResourceNotFoundException) return [];
          throw error;
        }
      }));
      found.push(...read.flat());
    }
    return found;
  }

  /** Deletes a task's pending schedule; false when there was none (never scheduled, or already sent). */
  async cancel(taskId: string): Promise<boolean> {
    try {
      await this.#settings.client.send(new DeleteScheduleCommand({ Name: scheduleNameOf(taskId), GroupName: this.#settings.groupName }));
      return true;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return false;
      throw error;
    }
  }
}

/** A one-time schedule as Scheduler keeps it: its time (UTC), its target queue and the message it will send. */
export interface PendingSchedule {
  readonly name: string;
  readonly at: string | null;
  readonly targetArn: string;
  readonly input: string;
}

/** The configured long-delay scheduler, or none (then the consumer re-delays long ETAs, 15 minutes at a time). */
export function longDelaysFromConfig(config: Pick<Config, 'longDelays' | 'region' | 'queueUrls' | 'ownCredentials'>): LongDelayScheduler | null {
  if (!config.longDelays) return null;
  const { endpoint, groupName, roleArn, deadLetterArn } = config.longDelays;
  const client = new SchedulerClient({ region: config.region, ...(endpoint ? { endpoint } : {}), ...localCredentials(endpoint, config.ownCredentials) });
  return new LongDelayScheduler({ client, region: config.region, groupName, roleArn, queueUrls: config.queueUrls, ...(deadLetterArn ? { deadLetterArn } : {}) });
}

/** Scheduler's largest target input; a longer message goes to SQS now and the consumer re-delays it. */
export const maxScheduledMessageCharacters = 8192;

/** `at()` takes whole seconds: rounding up keeps the schedule from firing before the ETA. */
function atTime(eta: string): string {
  return new Date(Math.ceil(Date.parse(eta) / 1000) * 1000).toISOString().slice(0, 19);
}

/** Schedule names allow 64 characters of `[0-9A-Za-z_.-]`; a task id allows 128 and `:`, so the name is its digest. */
export function scheduleNameOf(taskId: string): string {
  return `task-${createHash('sha256').update(taskId).digest('hex').slice(0, 48)}`;
}

/**
 * `https://sqs.<region>.amazonaws.com/<account>/<name>` → `arn:<partition>:sqs:<region>:<account>:<name>`;
 * `region` is that of a URL that does not name one (an emulator's).
 */
export function queueArnOf(queueUrl: string, region: string): string {
  const url = new URL(queueUrl);
  const [account, name] = url.pathname.split('/').filter(Boolean);
  if (!account || !name) throw new Error(`not a queue URL: ${queueUrl}`);
  const queueRegion = /^sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(url.hostname)?.[1] ?? region;
  const partition = url.hostname.endsWith('.amazonaws.com.cn') ? 'aws-cn' : queueRegion.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
  return `arn:${partition}:sqs:${queueRegion}:${account}:${name}`;
}
