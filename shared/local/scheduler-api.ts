import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MessageAttributeValue, SQSClient } from '@aws-sdk/client-sqs';
import { schedulerTime } from '../scheduling.ts';
import { readBody } from './http.ts';
import { sendToQueueArn } from './queues.ts';
import type { LocalScheduler } from './scheduler.ts';
import type { SavedSchedule, SavedScheduleGroup } from './scheduler-model.ts';
import { ApiError, checkName, invalid, notFound, oneTimeAt, page, validated } from './scheduler-validation.ts';

// Written by hand: no library emulates EventBridge Scheduler's API.

export interface SchedulerApiOptions {
  readonly region: string;
  /** @default 000000000000, the account in the emulator's queue URLs */
  readonly account?: string;
  /** Real milliseconds between attempts when a target refuses; at most the target's MaximumRetryAttempts are made. @default [1000, 2000, 4000] */
  readonly retryDelaysMs?: readonly number[];
  readonly onError?: (schedule: string, error: unknown) => void;
}

const seconds = (date = new Date()) => date.getTime() / 1000;

/**
 * EventBridge Scheduler's REST-JSON API, as `@aws-sdk/client-scheduler` speaks it, on the
 * local cloud's port: schedules and schedule groups kept in memory (and in the queue
 * snapshot), and one-time `at()` schedules fired onto the queue their target names on the
 * local scheduler's time scale, retried, then dead-lettered (DeadLetterConfig) and logged.
 * `rate()` and `cron()` schedules are kept and listed, not fired.
 */
export class SchedulerApi {
  readonly #options: SchedulerApiOptions;
  readonly #account: string;
  readonly #groups = new Map<string, SavedScheduleGroup>();
  readonly #schedules = new Map<string, SavedSchedule>();
  readonly #timers = new Map<string, () => void>();
  readonly #firing = new Set<Promise<void>>();
  readonly #sleepers = new Set<() => void>();
  #running: { sqs: SQSClient; clock: Pick<LocalScheduler, 'at'> } | undefined;

  constructor(options: SchedulerApiOptions) {
    this.#options = options;
    this.#account = options.account ?? '000000000000';
    this.ensureGroup('default');
  }

  ensureGroup(name: string): void {
    if (!this.#groups.has(name)) this.#groups.set(name, { Name: name, CreationDate: seconds() });
  }

  /** Scheduler's paths, unless the request is signed for another service (an S3 bucket named `schedules`). */
  matches(request: IncomingMessage, url: URL): boolean {
    if (!/^\/(schedules|schedule-groups)(\/|$)/.test(url.pathname)) return false;
    const credential = request.headers.authorization ?? url.searchParams.get('X-Amz-Credential') ?? '';
    const service = /\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(credential)?.[1];
    return service === undefined || service === 'scheduler';
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let status = 200;
    let body: Record<string, unknown>;
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID() };
    try {
      const url = new URL(request.url ?? '/', 'http://local');
      const text = await readBody(request);
      let input: unknown;
      try {
        input = text ? JSON.parse(text) : {};
      } catch {
        input = undefined;
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalid('The request body is not a JSON object.');
      body = this.#route(request.method ?? 'GET', url, input as Record<string, unknown>);
    } catch (error) {
      const failure = error instanceof ApiError ? error : new ApiError(500, 'InternalServerException', error instanceof Error ? error.message : String(error));
      status = failure.status;
      headers['x-amzn-errortype'] = failure.code;
      body = { Message: failure.message };
    }
    response.writeHead(status, headers);
    response.end(JSON.stringify(body));
  }

  #route(method: string, url: URL, input: Record<string, unknown>): Record<string, unknown> {
    const [, kind, encoded, rest] = /^\/(schedules|schedule-groups)(?:\/([^/]+))?(\/.*)?$/.exec(url.pathname) ?? [];
    const name = encoded === undefined ? undefined : decodeURIComponent(encoded);
    const query = url.searchParams;
    if (kind === 'schedules' && name !== undefined && !rest) {
      if (method === 'POST') return this.#put(name, input, false);
      if (method === 'PUT') return this.#put(name, input, true);
      if (method === 'GET') return this.#view(this.#find(name, query.get('groupName')));
      if (method === 'DELETE') {
        const schedule = this.#find(name, query.get('groupName'));
        this.#forget(keyOf(schedule.GroupName, schedule.Name));
        return {};
      }
    }
    if (kind === 'schedules' && name === undefined && method === 'GET') return this.#list(query);
    if (kind === 'schedule-groups' && name !== undefined && !rest) {
      if (method === 'POST') {
        checkName(name, 'name');
        if (this.#groups.has(name)) throw new ApiError(409, 'ConflictException', `Schedule group ${name} already exists.`);
        this.ensureGroup(name);
        return { ScheduleGroupArn: this.#groupArn(name) };
      }
      const group = this.#groups.get(name);
      if (!group) throw notFound(`Schedule group ${name} does not exist.`);
      if (method === 'GET') return this.#groupView(group);
      if (method === 'DELETE') {
        if (name === 'default') throw invalid('The default schedule group cannot be deleted.');
        for (const schedule of [...this.#schedules.values()]) if (schedule.GroupName === name) this.#forget(keyOf(name, schedule.Name));
        this.#groups.delete(name);
        return {};
      }
    }
    if (kind === 'schedule-groups' && name === undefined && method === 'GET') {
      const groups = [...this.#groups.values()].filter((group) => group.Name.startsWith(query.get('NamePrefix') ?? ''));
      return page(groups.map((group) => this.#groupView(group)), query, 'ScheduleGroups');
    }
    throw new ApiError(404, 'UnknownOperationException', `${method} ${url.pathname} is not an EventBridge Scheduler operation the local cloud serves.`);
  }

  /** CreateSchedule, or UpdateSchedule (which replaces every field, as Scheduler does). */
  #put(name: string, input: Record<string, unknown>, update: boolean): Record<string, unknown> {
    const schedule = validated(name, input);
    if (!this.#groups.has(schedule.GroupName)) throw notFound(`Schedule group ${schedule.GroupName} does not exist.`);
    const key = keyOf(schedule.GroupName, name);
    const existing = this.#schedules.get(key);
    if (update && !existing) throw notFound(`Schedule ${name} does not exist.`);
    if (!update && existing) {
      if (schedule.clientToken && existing.clientToken === schedule.clientToken) return { ScheduleArn: this.#arn(existing) };
      throw new ApiError(409, 'ConflictException', `Schedule ${name} already exists.`);
    }
    const now = seconds();
    const saved: SavedSchedule = { ...schedule, CreationDate: existing?.CreationDate ?? now, LastModificationDate: now, ...(update ? { clientToken: existing?.clientToken } : {}) };
    this.#schedules.set(key, saved);
    this.#arm(key);
    return { ScheduleArn: this.#arn(saved) };
  }

  #find(name: string, group: string | null): SavedSchedule {
    const groupName = group ?? 'default';
    if (!this.#groups.has(groupName)) throw notFound(`Schedule group ${groupName} does not exist.`);
    const schedule = this.#schedules.get(keyOf(groupName, name));
    if (!schedule) throw notFound(`Schedule ${name} does not exist.`);
    return schedule;
  }

  #list(query: URLSearchParams): Record<string, unknown> {
    const group = query.get('ScheduleGroup');
    const prefix = query.get('NamePrefix') ?? '';
    const state = query.get('State');
    const found = [...this.#schedules.values()]
      .filter((s) => (!group || s.GroupName === group) && s.Name.startsWith(prefix) && (!state || s.State === state))
      .sort((a, b) => a.GroupName.localeCompare(b.GroupName) || a.Name.localeCompare(b.Name))
      .map((s) => ({ Arn: this.#arn(s), Name: s.Name, GroupName: s.GroupName, State: s.State, CreationDate: s.CreationDate, LastModificationDate: s.LastModificationDate, Target: { Arn: s.Target.Arn } }));
    return page(found, query, 'Schedules');
  }

  #view(schedule: SavedSchedule): Record<string, unknown> {
    const { clientToken: _token, firedAt: _fired, ...wire } = schedule;
    return { Arn: this.#arn(schedule), ...wire };
  }

  #groupView(group: SavedScheduleGroup) {
    return { Arn: this.#groupArn(group.Name), Name: group.Name, State: 'ACTIVE', CreationDate: group.CreationDate, LastModificationDate: group.CreationDate };
  }

  #arn(schedule: Pick<SavedSchedule, 'GroupName' | 'Name'>): string {
    return `arn:aws:scheduler:${this.#options.region}:${this.#account}:schedule/${schedule.GroupName}/${schedule.Name}`;
  }

  #groupArn(name: string): string {
    return `arn:aws:scheduler:${this.#options.region}:${this.#account}:schedule-group/${name}`;
  }

  /** What the snapshot keeps: every group and schedule, pending one-time schedules included. */
  save(): { scheduleGroups: SavedScheduleGroup[]; schedules: SavedSchedule[] } {
    return { scheduleGroups: [...this.#groups.values()], schedules: [...this.#schedules.values()] };
  }

  /** Takes back what `save()` gave, before `start()`; returns how many schedules. */
  restore(saved: { scheduleGroups?: readonly SavedScheduleGroup[]; schedules?: readonly SavedSchedule[] }): number {
    for (const group of saved.scheduleGroups ?? []) this.#groups.set(group.Name, group);
    for (const schedule of saved.schedules ?? []) {
      this.ensureGroup(schedule.GroupName);
      this.#schedules.set(keyOf(schedule.GroupName, schedule.Name), schedule);
    }
    return saved.schedules?.length ?? 0;
  }

  /** Fires one-time schedules from now on, each on `clock.at()`: what is due (created while the cloud was down) at once. */
  start(runtime: { sqs: SQSClient; clock: Pick<LocalScheduler, 'at'> }): void {
    this.#running = runtime;
    for (const key of this.#schedules.keys()) this.#arm(key);
  }

  /** Stops firing; a firing under way finishes, one waiting to retry stays for the next start. */
  async stop(): Promise<void> {
    this.#running = undefined;
    for (const cancel of this.#timers.values()) cancel();
    this.#timers.clear();
    for (const wake of this.#sleepers) wake();
    await Promise.allSettled(this.#firing);
  }

  #forget(key: string): void {
    this.#timers.get(key)?.();
    this.#timers.delete(key);
    this.#schedules.delete(key);
  }

  #arm(key: string): void {
    this.#timers.get(key)?.();
    this.#timers.delete(key);
    const schedule = this.#schedules.get(key);
    const running = this.#running;
    if (!running || !schedule || schedule.State !== 'ENABLED' || schedule.firedAt !== undefined) return;
    const due = oneTimeAt(schedule.ScheduleExpression, schedule.ScheduleExpressionTimezone);
    if (!due) return;
    const cancel = running.clock.at(due, () => {
      this.#timers.delete(key);
      const firing = this.#fire(key, schedule, due).finally(() => this.#firing.delete(firing));
      this.#firing.add(firing);
    });
    this.#timers.set(key, cancel);
  }

  async #fire(key: string, schedule: SavedSchedule, due: Date): Promise<void> {
    const { Target: target } = schedule;
    const delays = this.#options.retryDelaysMs ?? [1000, 2000, 4000];
    const retries = Math.min(delays.length, target.RetryPolicy?.MaximumRetryAttempts ?? 185);
    const executionId = randomUUID();
    // Scheduler's context attributes, as the stack's recurring schedules use them.
    const context: Record<string, string> = { 'schedule-arn': this.#arn(schedule), 'scheduled-time': schedulerTime(due), 'execution-id': executionId };
    const input = (attempt: number) => (target.Input ?? '{}').replace(/<aws\.scheduler\.([a-z-]+)>/g, (whole, name: string) => ({ ...context, 'attempt-number': String(attempt) })[name] ?? whole);
    const groupId = target.SqsParameters?.MessageGroupId;
    for (let attempt = 1; ; attempt++) {
      // Deleted or updated meanwhile: the new version has its own timer.
      if (this.#schedules.get(key) !== schedule || !this.#running) return;
      try {
        await sendToQueueArn(this.#running.sqs, target.Arn, input(attempt), groupId ? { MessageGroupId: groupId } : {});
        break;
      } catch (error) {
        if (attempt > retries) {
          const reason = error instanceof Error ? error.message : String(error);
          await this.#deadLetter(schedule, input(attempt), { executionId, due, reason, retries: attempt - 1 });
          this.#options.onError?.(`${schedule.GroupName}/${schedule.Name}`, new Error(`target ${target.Arn} failed ${attempt} times, the last: ${reason}`));
          break;
        }
        if (!(await this.#sleep(delays[attempt - 1]!))) return;
      }
    }
    if (this.#schedules.get(key) !== schedule) return;
    if (schedule.ActionAfterCompletion === 'DELETE') this.#schedules.delete(key);
    else this.#schedules.set(key, { ...schedule, firedAt: seconds() });
  }

  /** The dead-letter event: the input as the body, what went wrong in message attributes, as Scheduler sends it. */
  async #deadLetter(schedule: SavedSchedule, body: string, failure: { executionId: string; due: Date; reason: string; retries: number }): Promise<void> {
    const arn = schedule.Target.DeadLetterConfig?.Arn;
    if (!arn || !this.#running) return;
    const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });
    const attributes = {
      ERROR_CODE: text('AWS.SQS.SendFailed'),
      ERROR_MESSAGE: text(failure.reason.slice(0, 1024)),
      EXECUTION_ID: text(failure.executionId),
      EXHAUSTED_RETRY_CONDITION: text('MaximumRetryAttempts'),
      IS_PAYLOAD_TRUNCATED: text('false'),
      RETRY_ATTEMPTS: text(String(failure.retries)),
      SCHEDULED_TIME: text(schedulerTime(failure.due)),
      SCHEDULE_ARN: text(this.#arn(schedule)),
      TARGET_ARN: text(schedule.Target.Arn),
    };
    await sendToQueueArn(this.#running.sqs, arn, body, { MessageAttributes: attributes }).catch((error: unknown) =>
      this.#options.onError?.(`${schedule.GroupName}/${schedule.Name}`, new Error(`dead-letter queue ${arn} refused too: ${error instanceof Error ? error.message : String(error)}`)),
    );
  }

  /** Resolves true after `ms`, or false at once when the API stops. */
  #sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const wake = (done: boolean) => {
        clearTimeout(timer);
        this.#sleepers.delete(stop);
        resolve(done);
      };
      const stop = () => wake(false);
      const timer = setTimeout(() => wake(true), ms);
      this.#sleepers.add(stop);
    });
  }
}

const keyOf = (group: string, name: string) => `${group}/${name}`;
