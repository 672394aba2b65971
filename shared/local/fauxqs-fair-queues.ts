/**
 * SQS fair queues in fauxqs 2.4.1, which ignores `MessageGroupId` on a standard queue: the
 * group id is kept (and returned by ReceiveMessage, as SQS does), checked as SQS checks it,
 * and receives deliver as a fair queue does. SQS marks a tenant noisy when it holds more
 * than 10 % of the queue's in-flight messages and at least 30 of them; while one is, every
 * receive gets the quiet tenants' messages first, then the noisy tenants', fewest in flight
 * first. A message without a group id is a tenant of its own. (SQS also counts each
 * tenant's share of recent processing time; that measure is left out here.)
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-fair-queues-detailed.html
 */

interface HeldMessage {
  readonly messageId: string;
  messageGroupId?: string;
}

interface Queue {
  messages: HeldMessage[];
  delayedMessages: HeldMessage[];
  inflightMessages: Map<string, { message: HeldMessage }>;
  isFifo(): boolean;
  processTimers(): void;
  dequeue(maxCount: number, ...rest: unknown[]): unknown[];
}

type Handler = (body: Record<string, unknown>, store: { getQueue(url: unknown): Queue | undefined }, request: unknown) => unknown;

const fauxqsModule = (path: string) => new URL(path, import.meta.resolve('fauxqs')).href;
const { SqsRouter } = (await import(fauxqsModule('./sqs/sqsRouter.js'))) as { SqsRouter: { prototype: { register(action: string, handler: Handler): void } } };
const { SqsQueue } = (await import(fauxqsModule('./sqs/sqsStore.js'))) as { SqsQueue: { prototype: Queue } };
const { SqsError } = (await import(fauxqsModule('./common/errors.js'))) as { SqsError: new (code: string, message: string) => Error };

/** SQS's rule for a group id: 1 to 128 alphanumeric and punctuation characters. https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html */
const validGroupId = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/;

/** Why SQS refuses these standard-queue send parameters, or undefined. */
function refusal(entry: Record<string, unknown>): string | undefined {
  if (entry.MessageDeduplicationId !== undefined) return 'Value for parameter MessageDeduplicationId is invalid. Reason: The request includes a parameter that is not valid for this queue type.';
  const group = entry.MessageGroupId;
  if (group !== undefined && (typeof group !== 'string' || !validGroupId.test(group))) {
    return `Value ${String(group)} for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.`;
  }
  return undefined;
}

/** The message just enqueued with this id: the newest end of the ready or delayed list. */
function justEnqueued(queue: Queue, messageId: string): HeldMessage | undefined {
  for (const list of [queue.messages, queue.delayedMessages]) {
    for (let index = list.length - 1; index >= Math.max(0, list.length - 20); index--) if (list[index]!.messageId === messageId) return list[index];
  }
  return undefined;
}

const sendMessage = (original: Handler): Handler => (body, store, request) => {
  const queue = store.getQueue(body.QueueUrl);
  if (!queue || queue.isFifo()) return original(body, store, request);
  const refused = refusal(body);
  if (refused) throw new SqsError('InvalidParameterValue', refused);
  // The handler is synchronous: the group is set before any receive can see the message.
  const result = original(body, store, request) as { MessageId: string };
  const message = typeof body.MessageGroupId === 'string' ? justEnqueued(queue, result.MessageId) : undefined;
  if (message) message.messageGroupId = body.MessageGroupId as string;
  return result;
};

type BatchEntry = Record<string, unknown> & { Id: string };
type BatchResult = { Successful: { Id: string; MessageId: string }[]; Failed: { Id: string; SenderFault: boolean; Code: string; Message: string }[] };

const sendMessageBatch = (original: Handler): Handler => (body, store, request) => {
  const queue = store.getQueue(body.QueueUrl);
  const entries = (body.Entries ?? []) as BatchEntry[];
  if (!queue || queue.isFifo() || !Array.isArray(entries) || entries.length === 0 || entries.length > 10) return original(body, store, request);
  const refused = entries.flatMap((entry) => {
    const message = refusal(entry);
    return message ? [{ Id: entry.Id, SenderFault: true, Code: 'InvalidParameterValue', Message: message }] : [];
  });
  const accepted = entries.filter((entry) => !refused.some((failure) => failure.Id === entry.Id));
  const result: BatchResult = accepted.length > 0 ? (original({ ...body, Entries: accepted }, store, request) as BatchResult) : { Successful: [], Failed: [] };
  for (const sent of result.Successful) {
    const group = accepted.find((entry) => entry.Id === sent.Id)?.MessageGroupId;
    const message = typeof group === 'string' ? justEnqueued(queue, sent.MessageId) : undefined;
    if (message) message.messageGroupId = group as string;
  }
  return { ...result, Failed: [...result.Failed, ...refused] };
};

const wrappers: Record<string, (original: Handler) => Handler> = { SendMessage: sendMessage, SendMessageBatch: sendMessageBatch };
const register = SqsRouter.prototype.register;
SqsRouter.prototype.register = function (this: unknown, action: string, handler: Handler) {
  register.call(this, action, wrappers[action]?.(handler) ?? handler);
};

/** SQS's thresholds for a noisy tenant: a share of the in-flight messages above 10 %, and at least 30 of them. */
const noisyShare = 0.1;
const noisyInFlight = 30;

/**
 * Puts first the messages a fair queue would deliver next, when some tenant is noisy;
 * otherwise leaves the order as it is. Only the front `count` messages move.
 */
export function fairOrder(ready: readonly HeldMessage[], inFlight: Iterable<HeldMessage>, count: number): HeldMessage[] | undefined {
  const held = new Map<string, number>();
  let total = 0;
  for (const message of inFlight) {
    total++;
    if (message.messageGroupId !== undefined) held.set(message.messageGroupId, (held.get(message.messageGroupId) ?? 0) + 1);
  }
  const isNoisy = (group: string | undefined) => group !== undefined && (held.get(group) ?? 0) >= noisyInFlight && held.get(group)! > noisyShare * total;
  if (![...held.keys()].some(isNoisy)) return undefined;
  const quiet: number[] = [];
  const noisy = new Map<string, number[]>();
  ready.forEach((message, index) => {
    if (!isNoisy(message.messageGroupId)) {
      if (quiet.length < count) quiet.push(index);
    } else {
      const waiting = noisy.get(message.messageGroupId!) ?? [];
      if (waiting.length < count) noisy.set(message.messageGroupId!, [...waiting, index]);
    }
  });
  const picks = [...quiet];
  while (picks.length < count && noisy.size > 0) {
    // Among noisy tenants, the one with the fewest messages in flight goes first.
    const [group, waiting] = [...noisy].reduce((fewest, candidate) => ((held.get(candidate[0]) ?? 0) < (held.get(fewest[0]) ?? 0) ? candidate : fewest));
    picks.push(waiting.shift()!);
    held.set(group, (held.get(group) ?? 0) + 1);
    if (waiting.length === 0) noisy.delete(group);
  }
  const picked = new Set(picks);
  return [...picks.map((index) => ready[index]!), ...ready.filter((_, index) => !picked.has(index))];
}

const dequeue = SqsQueue.prototype.dequeue;
SqsQueue.prototype.dequeue = function (this: Queue, maxCount: number, ...rest: unknown[]) {
  if (!this.isFifo()) {
    this.processTimers();
    if (this.messages.some((message) => message.messageGroupId !== undefined)) {
      const order = fairOrder(this.messages, [...this.inflightMessages.values()].map((entry) => entry.message), Math.min(maxCount, 10));
      if (order) this.messages = order;
    }
  }
  return dequeue.call(this, maxCount, ...rest);
};
