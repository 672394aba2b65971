import type { QueueName } from '../catalogue/index.ts';

/**
 * A queue's consumer trigger: Lambda's SQS event source mapping in AWS, the poller in the
 * local cloud. Disabled, it receives nothing: messages stay on the queue and wait.
 */
export interface EventSourceView {
  readonly queue: QueueName;
  /** Lambda's mapping states: `Enabled`, `Disabled`, or `Enabling`/`Disabling` while a change takes effect. */
  readonly state: string;
  /** The mapping's `MaximumConcurrency`, when it has one. */
  readonly maximumConcurrency: number | null;
}

/** Pauses and resumes consumers (`taskq control pause|resume`): what Celery's `cancel_consumer`/`add_consumer` did per worker. */
export interface EventSources {
  list(): Promise<EventSourceView[]>;
  /** Enables or disables a queue's consumer; invocations under way finish either way. */
  setEnabled(queue: QueueName, enabled: boolean): Promise<EventSourceView>;
}
