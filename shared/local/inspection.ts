import type { FauxqsServer } from 'fauxqs';
import { queues, type QueueName } from '../catalogue/index.ts';
import type { EventSources, PeekedMessage, QueuePeek } from '../operations/index.ts';
import type { EventSourcePoller } from './poller.ts';

/** The local pollers as Lambda's event source mappings: `control pause|resume` disables and enables one. */
export function pollerEventSources(pollers: Readonly<Record<QueueName, EventSourcePoller>>): EventSources {
  const view = (queue: QueueName) => ({ queue, state: pollers[queue].state, maximumConcurrency: queues[queue].maxConcurrency });
  return {
    list: async () => (Object.keys(pollers) as QueueName[]).map(view),
    async setEnabled(queue, enabled) {
      if (enabled) pollers[queue].resume();
      else pollers[queue].pause();
      return view(queue);
    },
  };
}

interface HeldMessage {
  readonly messageId: string;
  readonly body: string;
  readonly sentTimestamp: number;
  readonly approximateReceiveCount: number;
  readonly delayUntil?: number;
}

/**
 * Each queue's messages as the embedded emulator holds them, read in place (nothing is
 * received, so no consumer loses one): what `inspect scheduled` and `reserved` list here
 * and can only count against AWS.
 */
export function emulatorPeek(emulator: FauxqsServer, physicalName: (queue: QueueName) => string): QueuePeek {
  return (queue) => {
    const state = emulator.inspectQueue(physicalName(queue));
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
  };
}
