import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { laneName, type LaneName, type Priority, type QueueName } from '../catalogue/index.ts';

export interface LaneEndpoints {
  readonly url: string;
  readonly deadLetterUrl: string;
}

/** A category's normal lane, and its high-priority lane where it is reachable. */
export interface QueueEndpoints extends LaneEndpoints {
  readonly highPriority?: LaneEndpoints;
}

/** A category's lanes that are reachable, the normal one first. */
export function lanesOf(queue: QueueName, endpoints: QueueEndpoints): { readonly lane: LaneName; readonly priority: Priority; readonly endpoints: LaneEndpoints }[] {
  return [
    { lane: laneName(queue), priority: 'normal' as const, endpoints },
    ...(endpoints.highPriority ? [{ lane: laneName(queue, 'high'), priority: 'high' as const, endpoints: endpoints.highPriority }] : []),
  ];
}

/** Every reachable lane's URL, by lane: what a producer sends with. */
export function laneUrlsOf(queues: Readonly<Partial<Record<QueueName, QueueEndpoints>>>): Partial<Record<LaneName, string>> {
  return Object.fromEntries((Object.entries(queues) as [QueueName, QueueEndpoints][]).flatMap(([queue, endpoints]) => lanesOf(queue, endpoints).map(({ lane, endpoints: { url } }) => [lane, url])));
}

export interface QueueDepth {
  readonly queue: QueueName;
  /** The lane's queue: `default`, or `default-high`. */
  readonly lane: LaneName;
  readonly priority: Priority;
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
  readonly deadLetters: number;
  /** Age of the oldest waiting message, when the endpoint can tell. */
  readonly oldestAgeSeconds: number | null;
}

const counts = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] as const;

/** Depth of every lane of every queue, and of its dead-letter queue. */
export async function queueDepths(
  sqs: SQSClient,
  queues: Readonly<Partial<Record<QueueName, QueueEndpoints>>>,
  oldestAge: (lane: LaneName) => Promise<number | null> = async () => null,
): Promise<QueueDepth[]> {
  return Promise.all(
    (Object.entries(queues) as [QueueName, QueueEndpoints][]).flatMap(([queue, queueEndpoints]) => lanesOf(queue, queueEndpoints).map(async ({ lane, priority, endpoints }) => {
      const [source, dead, oldest] = await Promise.all([
        sqs.send(new GetQueueAttributesCommand({ QueueUrl: endpoints.url, AttributeNames: [...counts] })),
        sqs.send(new GetQueueAttributesCommand({ QueueUrl: endpoints.deadLetterUrl, AttributeNames: ['ApproximateNumberOfMessages'] })),
        oldestAge(lane),
      ]);
      const a = source.Attributes ?? {};
      return {
        queue,
        lane,
        priority,
        visible: Number(a.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
        delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
        deadLetters: Number(dead.Attributes?.ApproximateNumberOfMessages ?? 0),
        oldestAgeSeconds: oldest,
      };
    })),
  );
}

/** A category's lanes counted together, one row per queue: what `inspect` reports per consumer. */
export function queueTotals(depths: readonly QueueDepth[]): QueueDepth[] {
  return [...Map.groupBy(depths, (depth) => depth.queue)].map(([queue, lanes]) => ({
    queue,
    lane: queue,
    priority: 'normal' as const,
    visible: sum(lanes, 'visible'),
    inFlight: sum(lanes, 'inFlight'),
    delayed: sum(lanes, 'delayed'),
    deadLetters: sum(lanes, 'deadLetters'),
    oldestAgeSeconds: lanes.some((lane) => lane.oldestAgeSeconds !== null) ? Math.max(...lanes.map((lane) => lane.oldestAgeSeconds ?? 0)) : null,
  }));
}

const sum = (lanes: readonly QueueDepth[], field: 'visible' | 'inFlight' | 'delayed' | 'deadLetters') => lanes.reduce((total, lane) => total + lane[field], 0);
