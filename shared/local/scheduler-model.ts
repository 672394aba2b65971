/** EventBridge Scheduler's resources as the local API keeps them, shared by the API, its validation and the snapshot. */

export interface ScheduleTarget {
  readonly Arn: string;
  readonly RoleArn: string;
  readonly Input?: string;
  readonly RetryPolicy?: { readonly MaximumEventAgeInSeconds?: number; readonly MaximumRetryAttempts?: number };
  readonly SqsParameters?: { readonly MessageGroupId?: string };
  readonly DeadLetterConfig?: { readonly Arn?: string };
  readonly [other: string]: unknown;
}

/** A schedule as GetSchedule returns it (times in epoch seconds, as on the wire), plus what the local cloud keeps. */
export interface SavedSchedule {
  readonly Name: string;
  readonly GroupName: string;
  readonly ScheduleExpression: string;
  readonly ScheduleExpressionTimezone?: string;
  readonly Description?: string;
  readonly State: string;
  readonly StartDate?: number;
  readonly EndDate?: number;
  readonly KmsKeyArn?: string;
  readonly Target: ScheduleTarget;
  readonly FlexibleTimeWindow: { readonly Mode: string; readonly MaximumWindowInMinutes?: number };
  readonly ActionAfterCompletion: string;
  readonly CreationDate: number;
  readonly LastModificationDate: number;
  /** The token of the create call, so the SDK's retry of one call is not a conflict. */
  readonly clientToken?: string;
  /** When a one-time schedule that stays after completion fired. */
  readonly firedAt?: number;
}

export interface SavedScheduleGroup {
  readonly Name: string;
  readonly CreationDate: number;
}
