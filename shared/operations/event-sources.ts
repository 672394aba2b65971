import type { QueueName } from '../catalogue/index.ts';

/** One lane's event source mapping. */
export interface LaneSourceView {
  /** Lambda's mapping states: `Enabled`, `Disabled`, or `Enabling`/`Disabling` while a change takes effect. */
  readonly state: string;
  /** The mapping's `MaximumConcurrency`, when it has one. */
  readonly maximumConcurrency: number | null;
}

/**
 * A queue's consumer trigger: Lambda's SQS event source mapping in AWS, the poller in the
 * local cloud. Disabled, it receives nothing: messages stay on the queue and wait.
 */
export interface EventSourceView extends LaneSourceView {
  readonly queue: QueueName;
  /** The high-priority lane's mapping, which invokes the same consumer; paused and resumed with the normal lane's. */
  readonly highPriority: LaneSourceView | null;
}

/** Pauses and resumes consumers (`taskq control pause|resume`): what Celery's `cancel_consumer`/`add_consumer` did per worker. */
export interface EventSources {
  list(): Promise<EventSourceView[]>;
  /** Enables or disables a queue's consumer, both lanes; invocations under way finish either way. */
  setEnabled(queue: QueueName, enabled: boolean): Promise<EventSourceView>;
}
