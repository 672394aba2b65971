import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { sqsLimits, type QueueDefinition } from '../catalogue/index.ts';
import { lambdaContext } from './lambda-context.ts';
import { sqsRecordOf } from './sqs-record.ts';

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

export interface PollerOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly region: string;
  readonly functionName: string;
  readonly handler: SqsHandler;
  readonly batchSize: number;
  readonly batchingWindowSeconds: number;
  readonly maxConcurrency: number;
  readonly timeoutSeconds: number;
  /** @default 512 */
  readonly memoryMb?: number;
  /** Long-poll wait of each receive. @default 20 */
  readonly waitTimeSeconds?: number;
  /** Told of every invocation's end, and of errors the poller survives. */
  readonly onInvocation?: (report: InvocationReport) => void;
  readonly onError?: (error: unknown) => void;
}

/** What the catalogue's queue entry gives the stack's event source mapping and function. */
type MappingSettings = 'batchSize' | 'batchingWindowSeconds' | 'maxConcurrency' | 'timeoutSeconds' | 'memoryMb';

/**
 * The event source of one queue with the settings its catalogue entry gives the stack's
 * event source mapping (batch size, window, concurrency, timeout, memory), any of which a
 * caller may override: the one wiring of poller and consumer the local cloud, the tests and
 * the benchmarks share.
 */
export function pollerFor(queue: QueueDefinition, options: Omit<PollerOptions, MappingSettings> & Partial<Pick<PollerOptions, MappingSettings>>): EventSourcePoller {
  return new EventSourcePoller({
    batchSize: queue.batchSize,
    batchingWindowSeconds: queue.batchingWindowSeconds,
    maxConcurrency: queue.maxConcurrency,
    timeoutSeconds: queue.timeoutSeconds,
    memoryMb: queue.memoryMb,
    ...options,
  });
}

export interface InvocationReport {
  readonly records: number;
  readonly failed: number;
  readonly outcome: 'ok' | 'error' | 'timeout';
  readonly durationMs: number;
  readonly error?: unknown;
}

/**
 * Lambda's SQS event source mapping, for any SQS endpoint: pollers long-poll and gather a
 * batch within the batching window; up to `maxConcurrency` invocations run the handler at
 * once, with a Lambda-shaped event and context under the function timeout; then what the
 * handler did not report as failed is deleted. A handler that throws or times out deletes
 * nothing: its messages return after the visibility timeout, as in Lambda.
 *
 * As in Lambda, polling and deleting are the mapping's work, not the function's: each
 * poller receives its next batch while the last one runs, so a free invocation slot
 * never waits for a receive, and a finished invocation frees its slot before the delete.
 * `pause()` is the mapping's `Enabled: false`: receiving stops at once (long polls are
 * cut short, and a batch gathered but not yet handed over goes back to the queue), while
 * invocations under way finish; `resume()` starts receiving again.
 */
export class EventSourcePoller {
  readonly #options: PollerOptions;
  /** Ends the loops of one start: aborted by pause() and stop(), renewed by resume(). */
  #receiving = new AbortController();
  /** Cuts receives short, at stop() only: a receive cut short may have taken messages it never hands over. */
  readonly #stopping = new AbortController();
  #started = false;
  #paused = false;
  readonly #loops = new Set<Promise<void>>();
  readonly #running = new Set<Promise<void>>();
  /** Invocation slots free now, and pollers waiting for one. */
  #freeSlots: number;
  readonly #slotWaiters: (() => void)[] = [];

  constructor(options: PollerOptions) {
    this.#options = options;
    this.#freeSlots = options.maxConcurrency;
  }

  start(): void {
    if (this.#started || this.#paused || this.#stopping.signal.aborted) return;
    this.#started = true;
    const signal = this.#receiving.signal;
    for (let n = 0; n < this.#options.maxConcurrency; n++) {
      const loop: Promise<void> = this.#loop(signal).finally(() => this.#loops.delete(loop));
      this.#loops.add(loop);
    }
  }

  /** Lambda's event source mapping state: `Enabled` while receiving, `Disabled` once paused. */
  get state(): 'Enabled' | 'Disabled' {
    return this.#paused || this.#stopping.signal.aborted ? 'Disabled' : 'Enabled';
  }

  /**
   * Stops invoking at once. A long poll under way is let finish rather than cut short, so
   * no message it takes is lost to the visibility timeout: what it brings goes straight
   * back to the queue. Invocations under way finish and settle their messages as usual.
   */
  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#halt();
  }

  /** Receives again at once; loops of before the pause end on their own after their last poll. */
  resume(): void {
    if (!this.#paused || this.#stopping.signal.aborted) return;
    this.#paused = false;
    this.#receiving = new AbortController();
    this.start();
  }

  /** Stops receiving and waits for invocations under way to end. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    this.#halt();
    await Promise.all(this.#loops);
    await Promise.all(this.#running);
  }

  #halt(): void {
    this.#started = false;
    this.#receiving.abort();
    for (const wake of this.#slotWaiters.splice(0)) wake();
  }

  async #loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const messages = await this.#gather(signal);
        if (messages.length === 0) continue;
        await this.#slot(signal);
        if (signal.aborted) {
          this.#freeSlot();
          await this.#release(messages);
          return;
        }
        const invocation = this.#invoke(messages)
          .catch((error: unknown) => this.#options.onError?.(error))
          .finally(() => this.#running.delete(invocation));
        this.#running.add(invocation);
      } catch (error) {
        if (signal.aborted) return;
        this.#options.onError?.(error);
        await pause(1000, signal);
      }
    }
  }

  /** Waits for a free invocation slot (or for stop()) and takes it. */
  async #slot(signal: AbortSignal): Promise<void> {
    while (this.#freeSlots === 0 && !signal.aborted) {
      await new Promise<void>((resolve) => this.#slotWaiters.push(resolve));
    }
    this.#freeSlots--;
  }

  #freeSlot(): void {
    this.#freeSlots++;
    this.#slotWaiters.shift()?.();
  }

  /** Receives until the batch is full or the batching window has passed. */
  async #gather(signal: AbortSignal): Promise<Message[]> {
    const { batchSize, batchingWindowSeconds, waitTimeSeconds = 20 } = this.#options;
    const messages: Message[] = [];
    let windowEnd = Infinity;
    while (messages.length < batchSize && !signal.aborted) {
      const left = windowEnd - Date.now();
      if (left <= 0) break;
      const wait = messages.length === 0 ? waitTimeSeconds : Math.max(0, Math.floor(left / 1000));
      const received = await this.#receive(Math.min(sqsLimits.maxReceiveBatch, batchSize - messages.length), wait);
      messages.push(...received);
      if (messages.length > 0 && windowEnd === Infinity) {
        if (batchingWindowSeconds === 0) break;
        windowEnd = Date.now() + batchingWindowSeconds * 1000;
      }
      // Long polls wait whole seconds: under a second of window left, one short poll that finds
      // nothing ends the window early rather than spinning on empty receives until it passes.
      if (received.length === 0 && messages.length > 0 && wait === 0) break;
    }
    return messages;
  }

  async #receive(max: number, waitSeconds: number): Promise<Message[]> {
    try {
      const response = await this.#options.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.#options.queueUrl,
          MaxNumberOfMessages: max,
          WaitTimeSeconds: waitSeconds,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: this.#stopping.signal },
      );
      return response.Messages ?? [];
    } catch (error) {
      if (this.#stopping.signal.aborted) return [];
      throw error;
    }
  }

  async #invoke(messages: Message[]): Promise<void> {
    const { handler, timeoutSeconds, functionName, region, memoryMb = 512 } = this.#options;
    const started = Date.now();
    const deadline = started + timeoutSeconds * 1000;
    const event: SQSEvent = { Records: messages.map((message) => sqsRecordOf(message, this.#options.queueArn, this.#options.region)) };
    const context = lambdaContext({ functionName, region, memoryMb, deadline });

    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutSeconds * 1000);
    });
    let response: SQSBatchResponse | void | 'timeout';
    try {
      response = await Promise.race([handler(event, context), timeout]);
    } catch (error) {
      this.#report(messages.length, messages.length, 'error', started, error);
      return;
    } finally {
      clearTimeout(timer);
      this.#freeSlot();
    }
    if (response === 'timeout') {
      this.#report(messages.length, messages.length, 'timeout', started);
      return;
    }

    const failures = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
    const known = new Set(event.Records.map((record) => record.messageId));
    if ([...failures].some((id) => !known.has(id))) {
      // Lambda treats an unknown itemIdentifier as a failure of the whole batch.
      this.#report(messages.length, messages.length, 'error', started, new Error('batchItemFailures names an unknown message'));
      return;
    }
    const succeeded = messages.filter((message) => !failures.has(message.MessageId ?? ''));
    await this.#delete(succeeded);
    this.#report(messages.length, failures.size, 'ok', started);
  }

  async #delete(messages: Message[]): Promise<void> {
    for (let start = 0; start < messages.length; start += sqsLimits.maxReceiveBatch) {
      const chunk = messages.slice(start, start + sqsLimits.maxReceiveBatch);
      const response = await this.#options.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.#options.queueUrl,
          Entries: chunk.map((message, index) => ({ Id: `m${index}`, ReceiptHandle: message.ReceiptHandle ?? '' })),
        }),
      );
      if (response.Failed?.length) this.#options.onError?.(new Error(`delete failed: ${JSON.stringify(response.Failed)}`));
    }
  }

  /** Messages received while pausing or stopping go back at once rather than after the visibility timeout. */
  async #release(messages: Message[]): Promise<void> {
    await this.#options.sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: this.#options.queueUrl,
        Entries: messages.map((message, index) => ({ Id: `m${index}`, ReceiptHandle: message.ReceiptHandle ?? '', VisibilityTimeout: 0 })),
      }),
    ).catch((error: unknown) => this.#options.onError?.(error));
  }

  #report(records: number, failed: number, outcome: InvocationReport['outcome'], started: number, error?: unknown): void {
    this.#options.onInvocation?.({ records, failed, outcome, durationMs: Date.now() - started, ...(error !== undefined ? { error } : {}) });
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
