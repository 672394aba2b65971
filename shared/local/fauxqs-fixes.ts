import { Server } from 'node:net';
import { startFauxqs } from 'fauxqs';
import './fauxqs-fair-queues.ts';
/**
 * fauxqs 2.4.1 checks message bodies with a regular expression that lacks the `u` flag,
 * so it refuses every character beyond U+FFFF (emoji, many CJK ideographs) that SQS
 * accepts (#x10000 to #x10FFFF). Until upstream fixes it, the emulator's one instance of
 * that expression is given a correct `test`. The module is loaded by its file URL because
 * the package exports only its entry point; importing it by the same URL yields the
 * instance fauxqs itself uses.
 */
const sqsTypes = new URL('./sqs/sqsTypes.js', import.meta.resolve('fauxqs'));
const { INVALID_MESSAGE_BODY_CHAR } = (await import(sqsTypes.href)) as { INVALID_MESSAGE_BODY_CHAR: RegExp };

/** SQS's allowed characters, read per code point (tab, line feed and carriage return are allowed on purpose). */
// eslint-disable-next-line no-control-regex
const invalidCharacter = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

INVALID_MESSAGE_BODY_CHAR.test = (text: string) => invalidCharacter.test(text);

/**
 * fauxqs 2.4.1 listens on every interface whatever it is asked (`app.listen({ host: '0.0.0.0' })`),
 * and its port takes unauthenticated S3 and SQS calls. Its listen is pointed at `host` instead:
 * Node's `Server.prototype.listen` is wrapped while fauxqs starts, for that one call.
 */
export async function startFauxqsOn(host: string, options: Parameters<typeof startFauxqs>[0] = {}): ReturnType<typeof startFauxqs> {
  const listen = Server.prototype.listen;
  Server.prototype.listen = function (this: Server, ...args: unknown[]) {
    const [first] = args;
    if (first && typeof first === 'object' && (first as { host?: string }).host === '0.0.0.0') args[0] = { ...first, host };
    return listen.apply(this, args as Parameters<Server['listen']>);
  } as Server['listen'];
  try {
    return await startFauxqs(options);
  } finally {
    Server.prototype.listen = listen;
  }
}

/**
 * SQS allows one PurgeQueue per queue every 60 seconds and refuses another with
 * PurgeQueueInProgress; fauxqs 2.4.1 purges as often as asked. Its queue's purge is given
 * SQS's rule, so `taskq purge` meets locally the refusal it meets in AWS.
 */
const fauxqsModule = (path: string) => new URL(path, import.meta.resolve('fauxqs')).href;
const { SqsQueue } = (await import(fauxqsModule('./sqs/sqsStore.js'))) as { SqsQueue: { prototype: { name: string; purge(): void } } };
const { SqsError } = (await import(fauxqsModule('./common/errors.js'))) as { SqsError: new (code: string, message: string, status: number, senderFault: boolean) => Error };
const purgedAt = new WeakMap<object, number>();
const purge = SqsQueue.prototype.purge;
SqsQueue.prototype.purge = function (this: { name: string }) {
  const last = purgedAt.get(this);
  if (last !== undefined && Date.now() - last < 60_000) throw new SqsError('PurgeQueueInProgress', `Only one PurgeQueue operation on ${this.name} is allowed every 60 seconds.`, 400, true);
  purgedAt.set(this, Date.now());
  purge.call(this);
};
