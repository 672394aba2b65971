import { scheduleTimes } from '../scheduling.ts';
import type { SavedSchedule, ScheduleTarget } from './scheduler-model.ts';

/** An error the Scheduler API answers with: its HTTP status and `x-amzn-errortype`. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const invalid = (message: string) => new ApiError(400, 'ValidationException', message);
export const notFound = (message: string) => new ApiError(404, 'ResourceNotFoundException', message);
export const namePattern = /^[0-9a-zA-Z-_.]+$/;
export function checkName(value: string, field: string): void {
  if (value.length < 1 || value.length > 64) throw invalid(`1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: Member must have length between 1 and 64`);
  if (!namePattern.test(value)) throw invalid(`1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${namePattern.source}`);
}

/** The checks CreateSchedule and UpdateSchedule make, in the order and wording Scheduler reports them. */
export function validated(name: string, input: Record<string, unknown>): Omit<SavedSchedule, 'CreationDate' | 'LastModificationDate'> {
  const problems: string[] = [];
  const constraint = (value: unknown, field: string, rule: string) => problems.push(`Value '${typeof value === 'object' ? JSON.stringify(value) : String(value)}' at '${field}' failed to satisfy constraint: Member must ${rule}`);
  const text = (value: unknown, field: string, options: { required?: boolean; max: number; pattern?: RegExp; values?: readonly string[] }) => {
    if (value === undefined || value === null) return void (options.required && problems.push(`Value null at '${field}' failed to satisfy constraint: Member must not be null`));
    if (typeof value !== 'string' || value.length < 1 || value.length > options.max) return void constraint(value, field, `have length between 1 and ${options.max}`);
    if (options.pattern && !options.pattern.test(value)) constraint(value, field, `satisfy regular expression pattern: ${options.pattern.source}`);
    if (options.values && !options.values.includes(value)) constraint(value, field, `satisfy enum value set: [${options.values.join(', ')}]`);
  };
  const integer = (value: unknown, field: string, min: number, max: number) => {
    if (value !== undefined && (!Number.isInteger(value) || (value as number) < min || (value as number) > max)) constraint(value, field, `have value between ${min} and ${max}`);
  };
  const object = (value: unknown): Record<string, unknown> => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {});

  text(name, 'name', { required: true, max: 64, pattern: namePattern });
  text(input.GroupName, 'groupName', { max: 64, pattern: namePattern });
  text(input.ScheduleExpression, 'scheduleExpression', { required: true, max: 256 });
  text(input.ScheduleExpressionTimezone, 'scheduleExpressionTimezone', { max: 50 });
  text(input.Description, 'description', { max: 512 });
  text(input.State, 'state', { max: 8, values: ['ENABLED', 'DISABLED'] });
  text(input.ActionAfterCompletion, 'actionAfterCompletion', { max: 6, values: ['NONE', 'DELETE'] });
  text(input.ClientToken, 'clientToken', { max: 64, pattern: /^[a-zA-Z0-9-_]+$/ });
  text(input.KmsKeyArn, 'kmsKeyArn', { max: 2048 });
  const window = object(input.FlexibleTimeWindow);
  if (input.FlexibleTimeWindow === undefined) problems.push(`Value null at 'flexibleTimeWindow' failed to satisfy constraint: Member must not be null`);
  else text(window.Mode, 'flexibleTimeWindow.mode', { required: true, max: 8, values: ['OFF', 'FLEXIBLE'] });
  integer(window.MaximumWindowInMinutes, 'flexibleTimeWindow.maximumWindowInMinutes', 1, 1440);
  const target = object(input.Target);
  if (input.Target === undefined) problems.push(`Value null at 'target' failed to satisfy constraint: Member must not be null`);
  else {
    text(target.Arn, 'target.arn', { required: true, max: 1600 });
    text(target.RoleArn, 'target.roleArn', { required: true, max: 1600, pattern: /^arn:aws(-[a-z]+)?:iam::\d{12}:role\/[\w+=,.@/-]+$/ });
    text(target.Input, 'target.input', { max: 8192 });
    const retry = object(target.RetryPolicy);
    integer(retry.MaximumEventAgeInSeconds, 'target.retryPolicy.maximumEventAgeInSeconds', 60, 86_400);
    integer(retry.MaximumRetryAttempts, 'target.retryPolicy.maximumRetryAttempts', 0, 185);
    const deadLetter = object(target.DeadLetterConfig);
    text(deadLetter.Arn, 'target.deadLetterConfig.arn', { max: 1600, pattern: /^arn:aws(-[a-z]+)?:sqs:[a-z0-9-]+:\d{12}:[a-zA-Z0-9-_]+$/ });
  }
  for (const field of ['StartDate', 'EndDate'] as const) {
    if (input[field] !== undefined && typeof input[field] !== 'number') constraint(input[field], field[0]!.toLowerCase() + field.slice(1), 'be a timestamp');
  }
  if (problems.length) throw invalid(`${problems.length} validation error${problems.length > 1 ? 's' : ''} detected: ${problems.join('; ')}`);

  const expression = input.ScheduleExpression as string;
  const timeZone = (input.ScheduleExpressionTimezone as string | undefined) ?? 'UTC';
  if (!isTimeZone(timeZone)) throw invalid(`Invalid time zone: ${timeZone}.`);
  if (!isExpression(expression)) throw invalid(`Invalid Schedule Expression ${expression}.`);
  if (window.Mode === 'FLEXIBLE' && window.MaximumWindowInMinutes === undefined) throw invalid('MaximumWindowInMinutes is required when the flexible time window mode is FLEXIBLE.');
  if (window.Mode === 'OFF' && window.MaximumWindowInMinutes !== undefined) throw invalid('MaximumWindowInMinutes must not be set when the flexible time window mode is OFF.');
  if (typeof input.StartDate === 'number' && typeof input.EndDate === 'number' && input.EndDate <= input.StartDate) throw invalid('The EndDate must be later than the StartDate.');

  const optional = (field: string) => (input[field] !== undefined ? { [field]: input[field] } : {});
  return {
    Name: name,
    GroupName: (input.GroupName as string | undefined) ?? 'default',
    ScheduleExpression: expression,
    ...optional('ScheduleExpressionTimezone'),
    ...optional('Description'),
    State: (input.State as string | undefined) ?? 'ENABLED',
    ...optional('StartDate'),
    ...optional('EndDate'),
    ...optional('KmsKeyArn'),
    Target: target as unknown as ScheduleTarget,
    FlexibleTimeWindow: window as SavedSchedule['FlexibleTimeWindow'],
    ActionAfterCompletion: (input.ActionAfterCompletion as string | undefined) ?? 'NONE',
    ...(typeof input.ClientToken === 'string' ? { clientToken: input.ClientToken } : {}),
  };
}

const atPattern = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/;

/** `at(yyyy-mm-ddThh:mm:ss)`, `rate(n unit)` with n ≥ 1, or a six-field `cron()` with `?` in one of its day fields. */
function isExpression(expression: string): boolean {
  if (atPattern.test(expression)) return oneTimeAt(expression) !== undefined;
  if (/^rate\(([1-9]\d*) (minute|minutes|hour|hours|day|days)\)$/.test(expression)) return true;
  const fields = /^cron\((.+)\)$/.exec(expression)?.[1]!.trim().split(/\s+/);
  if (!fields || fields.length !== 6 || (fields[2] === '?') === (fields[4] === '?')) return false;
  try {
    scheduleTimes(expression);
    return true;
  } catch {
    return false;
  }
}

function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** The instant an `at()` expression names in its time zone; undefined for other expressions or an impossible date. */
export function oneTimeAt(expression: string, timeZone = 'UTC'): Date | undefined {
  const parts = atPattern.exec(expression)?.slice(1).map(Number);
  if (!parts) return undefined;
  const [year, month, day, hour, minute, second] = parts as [number, number, number, number, number, number];
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  const back = new Date(wall);
  if (back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) return undefined;
  if (timeZone === 'UTC') return back;
  // The zone's offset at that wall time, found by asking Intl what the wall clock reads at a guess, twice.
  const format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  const offsetAt = (instant: number) => {
    const p = Object.fromEntries(format.formatToParts(instant).map((part) => [part.type, Number(part.value)]));
    return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) - Math.floor(instant / 1000) * 1000;
  };
  return new Date(wall - offsetAt(wall - offsetAt(wall)));
}

/** A page of a List call: MaxResults (1–100, default 100) from NextToken on, as Scheduler checks them. */
export function page<T>(items: readonly T[], query: URLSearchParams, member: string): Record<string, unknown> {
  const max = Number(query.get('MaxResults') ?? 100);
  if (!Number.isInteger(max) || max < 1 || max > 100) throw invalid(`1 validation error detected: Value '${query.get('MaxResults')}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100`);
  const start = Number(query.get('NextToken') ?? 0);
  if (!Number.isInteger(start) || start < 0) throw invalid('The NextToken is not valid.');
  const end = start + max;
  return { [member]: items.slice(start, end), ...(end < items.length ? { NextToken: String(end) } : {}) };
}
