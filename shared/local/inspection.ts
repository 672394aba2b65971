import type { FauxqsServer } from 'fauxqs';
import { laneConcurrency, queues, type QueueName } from '../catalogue/index.ts';
import type { EventSources, PeekedMessage, QueuePeek } from '../operations/index.ts';
import type { EventSourcePoller } from './poller.ts';

/** The local pollers as Lambda's event source mappings: `control pause|resume` disables and enables one. */
export function pollerEventSources(pollers: Readonly<Record<QueueName, LanePollers>>): EventSources {
  const view = (queue: QueueName) => ({
    queue,
    state: pollers[queue].normal.state,
    maximumConcurrency: laneConcurrency(queues[queue], 'normal'),
    highPriority: { state: pollers[queue].high.state, maximumConcurrency: laneConcurrency(queues[queue], 'high') },
  });
  return {
    list: async () => (Object.keys(pollers) as QueueName[]).map(view),
    async setEnabled(queue, enabled) {
      for (const poller of [pollers[queue].normal, pollers[queue].high]) {
        if (enabled) poller.resume();
        else poller.pause();
      }
      return view(queue);
    },
  };
}

/** A category's two event sources: one poller per lane, invoking the same consumer. */
export interface LanePollers {
  readonly normal: EventSourcePoller;
  readonly high: EventSourcePoller;
}

interface HeldMessage {
  readonly messageId: string;
  readonly body: string;
  readonly sentTimestamp: number;
  readonly approximateReceiveCount: number;
  readonly delayUntil?: number;
}

/**
 * Each queue's messages as the embedded emulator holds them, both lanes', read in place
 * (nothing is received, so no consumer loses one): what `inspect scheduled` and `reserved`
 * list here and can only count against AWS.
 */
export function emulatorPeek(emulator: FauxqsServer, physicalNames: (queue: QueueName) => readonly string[]): QueuePeek {
  return (queue) => {
    const lanes = physicalNames(queue).map((name) => lanePeek(emulator, name));
    return lanes.some((lane) => lane === undefined) ? undefined : lanes.flatMap((lane) => lane!);
  };
}

function lanePeek(emulator: FauxqsServer, physicalName: string): PeekedMessage[] | undefined {
  const state = emulator.inspectQueue(physicalName);
  if (!state) return undefined;
  const { ready, delayed, inflight } = state.messages as unknown as { ready: HeldMessage[]; delayed: HeldMessage[]; inflight: { message: HeldMessage; visibilityDeadline: number }[] };
  const peeked = (message: HeldMessage, held: PeekedMessage['state'], visibleAt: number | null): PeekedMessage => ({
    messageId: message.messageId, body: message.body, state: held, visibleAt, receiveCount: message.approximateReceiveCount, sentAt: message.sentTimestamp,
  });
  return [
    ...ready.map((message) => peeked(message, 'ready', null)),
    ...delayed.map((message) => peeked(message, 'delayed', message.delayUntil ?? null)),
    ...inflight.map(({ message, visibilityDeadline }) => peeked(message, 'in-flight', visibilityDeadline)),
  ];
}
