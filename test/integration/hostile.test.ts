import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { ListQueuesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEnvelope } from '../../shared/envelope/envelope.ts';
import { databaseKind } from '../support/database.ts';
import { startLocalCloudProcess } from '../support/local-cloud.ts';
import { waitFor } from '../support/wait.ts';

/** One request as bytes on a socket, exactly as written (no client library tidies it), and the answer's status and body. */
async function raw(base: string, request: string, body = '', host?: string): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer to ${request.split('\r\n')[0]}`)));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A server that answers before reading a large body closes on the rest: the answer already came.
    socket.on('error', (error) => (chunks.length > 0 ? undefined : reject(error)));
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text });
    });
    // Written, not ended: a client that half-closes is answered by no server; `Connection: close` ends it once answered.
    socket.write(`${request.replace(/\r?\n/g, '\r\n')}\r\nHost: ${host ?? `${hostname}:${port}`}\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });
}

/** A seeded generator, so a failing fuzz case can be replayed. */
function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe(`the local cloud under hostile requests (${databaseKind})`, () => {
  let cloud: Awaited<ReturnType<typeof startLocalCloudProcess>>;
  let sqs: SQSClient;
  const alive = () => {
    process.kill(cloud.pid, 0);
    return true;
  };
  const api = async <T>(path: string) => (await (await fetch(`${cloud.dashboardUrl}${path}`)).json()) as T;
  const taskCount = async () => (await api<unknown[]>('/api/tasks?limit=1000')).length;

  beforeAll(async () => {
    cloud = await startLocalCloudProcess();
    sqs = new SQSClient({ endpoint: cloud.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  });
  afterAll(async () => {
    sqs?.destroy();
    await cloud?.cleanUp();
  });

  it.each([
    ['dashboard', 'GET /api/tasks/% HTTP/1.1'],
    ['dashboard', 'GET /tasks/%E0%A4%A HTTP/1.1'],
    ['dashboard', 'GET // HTTP/1.1'],
    ['dashboard', 'GET /api/tasks/%00 HTTP/1.1'],
    ['dashboard', 'GET /api/tasks?limit=abc HTTP/1.1'],
    ['dashboard', 'GET /api/tasks?since=1 HTTP/1.1'],
    ['dashboard', 'GET /api/tasks?search=%00 HTTP/1.1'],
    ['dashboard', 'GET /api/stats?minutes=abc HTTP/1.1'],
    ['dashboard', 'GET /api/tasks/x?wait=-5 HTTP/1.1'],
    ['webhook', 'GET // HTTP/1.1'],
    ['webhook', 'GET /webhook/% HTTP/1.1'],
    ['emulator', 'GET // HTTP/1.1'],
    ['emulator', 'GET /?Action=ListQueues&__proto__.x=1 HTTP/1.1'],
    ['emulator', 'GET /?Action=ListQueues&constructor.prototype.x=1 HTTP/1.1'],
  ])('answers %s: %s with a 4xx, and keeps running', async (port, request) => {
    const base = { dashboard: cloud.dashboardUrl, webhook: cloud.webhookUrl, emulator: cloud.endpoint }[port as 'dashboard'];
    const answer = await raw(base!, request);
    expect(answer.status, answer.text).toBeGreaterThanOrEqual(400);
    expect(answer.status, answer.text).toBeLessThan(500);
    expect(answer.text).not.toMatch(/\b(select|insert|update) .* from\b|Failed query/i);
    expect(alive()).toBe(true);
  });

  it('refuses the API inputs the consumer would refuse, with a 400 and the reason, and returns no handle', async () => {
    const before = await taskCount();
    const post = (body: unknown) => fetch(`${cloud.dashboardUrl}/api/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (const [body, reason] of [
      [{ task: 'default.noop', payload: {}, id: 'has spaces' }, /id: letters, digits/],
      [{ task: 'default.noop', payload: {}, countdown: 8e12 }, /countdown must be a number of seconds/],
      [{ task: 'default.noop', payload: {}, expires: '20000-01-01T00:00:00Z' }, /expires/],
      [{ task: 'default.noop', payload: { echo: 'nul \u0000 inside' } }, /NUL/],
      [{ task: 'default.noop', payload: { unknown: 1 } }, /invalid payload/],
    ] as const) {
      const response = await post(body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(((await response.json()) as { error: string }).error).toMatch(reason);
    }
    expect(await taskCount()).toBe(before);
  });

  it('bounds a revoke reason, and answers the webhook 413 for a body over 1 MiB', async () => {
    const task = newEnvelope('default.noop', {});
    const revoked = await fetch(`${cloud.dashboardUrl}/api/tasks/${task.id}/revoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'r'.repeat(1_900_000) }) });
    expect(revoked.status).toBe(200);
    expect((await api<{ error: string }>(`/api/tasks/${task.id}`)).error.length).toBeLessThanOrEqual(1000);

    expect((await raw(cloud.webhookUrl, 'POST /webhook HTTP/1.1\r\nStripe-Signature: t=1,v1=x', 'x'.repeat(1_500_000))).status).toBe(413);
    expect(alive()).toBe(true);
  });

  it('answers only requests naming this machine: a rebound name gets 403 on every port', async () => {
    for (const base of [cloud.dashboardUrl, cloud.webhookUrl, cloud.endpoint]) {
      const answer = await raw(base, 'GET /api/tasks?Action=ListQueues HTTP/1.1', '', `attacker.example:${new URL(base).port}`);
      expect(answer.status, answer.text).toBe(403);
    }
  });

  it('listens on loopback only', () => {
    const listeners = execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' }).split('\n').filter((line) => line.includes(`pid=${cloud.pid},`));
    expect(listeners.length).toBeGreaterThanOrEqual(4);
    for (const line of listeners) expect(line.split(/\s+/)[3]).toMatch(/^(127\.\d+\.\d+\.\d+|\[::1\]):\d+$/);
  });

  describe('a page on another origin, in headless Chromium', () => {
    let browser: Browser;
    let attacker: Server;
    let attackerUrl = '';
    /** The attacks, each a page that acts as soon as it loads. */
    const pages = (): Record<string, string> => {
      const dashboard = cloud.dashboardUrl;
      const emulator = cloud.endpoint;
      const form = (action: string, fields: Record<string, string>, enctype = 'application/x-www-form-urlencoded') =>
        `<form method="post" action="${action}" enctype="${enctype}">${Object.entries(fields).map(([name, value]) => `<input name="${name}" value='${value}'>`).join('')}</form><script>document.forms[0].submit()</script>`;
      return {
        send: form(`${dashboard}/actions/send`, { task: 'default.noop', payload: '{"echo":"cross-site"}' }),
        purge: form(`${dashboard}/actions/dlq/default/purge`, { confirm: 'yes' }),
        schedule: form(`${dashboard}/actions/schedules/cleanup-task-results/run`, {}),
        redrive: form(`${dashboard}/actions/dlq/default/redrive`, { scope: 'all' }),
        revoke: form(`${dashboard}/actions/tasks/planted-revocation/revoke`, { reason: 'a page did it' }),
        revokeApi: `<script>fetch('${dashboard}/api/tasks/planted-revocation/revoke', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '{}' })</script>`,
        json: `<script>fetch('${dashboard}/api/tasks', { method: 'POST', mode: 'no-cors', body: JSON.stringify({ task: 'default.noop', payload: { echo: 'no-cors' } }) })</script>`,
        jsonPlain: form(`${dashboard}/api/tasks`, { '{"task":"default.noop","payload":{},"x":"': '"}' }, 'text/plain'),
        read: `<script>fetch('${dashboard}/api/tasks').then((r) => r.text()).then((t) => { document.title = 'read ' + t.length }).catch(() => { document.title = 'blocked' })</script>`,
        createQueue: form(`${emulator}/`, { Action: 'CreateQueue', QueueName: 'planted-by-a-page' }),
        deleteQueue: `<img src="${emulator}/?Action=DeleteQueue&QueueUrl=${encodeURIComponent(cloud.queueUrl('default'))}">`,
        sendMessage: `<img src="${emulator}/?Action=SendMessage&QueueUrl=${encodeURIComponent(cloud.queueUrl('default'))}&MessageBody=${encodeURIComponent(JSON.stringify(newEnvelope('default.noop', { echo: 'img' })))}">`,
        crashes: ['/api/tasks/%', '//'].map((path) => `<img src="${dashboard}${path}"><img src="${emulator}${path}">`).join('') + `<img src="${emulator}/?Action=ListQueues&__proto__.x=1">`,
        frame: `<iframe src="${dashboard}/"></iframe>`,
      };
    };

    beforeAll(async () => {
      attacker = createServer((request, response) => {
        const page = pages()[(request.url ?? '/').slice(1)];
        response.writeHead(page ? 200 : 404, { 'content-type': 'text/html' });
        response.end(page ?? 'no such attack');
      });
      // localhost, not 127.0.0.1: another site, as far as the browser is concerned.
      await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
      attackerUrl = `http://localhost:${(attacker.address() as AddressInfo).port}`;
      browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
    });
    afterAll(async () => {
      await browser?.close();
      await new Promise((resolve) => attacker?.close(resolve));
    });

    it('changes nothing, reads nothing and brings nothing down', async () => {
      // A dead letter the purge and the redrive would move, and the state to compare with.
      await sqs.send(new SendMessageCommand({ QueueUrl: cloud.queueUrl('default'), MessageBody: '{"not": "an envelope"' }));
      await waitFor(async () => (await api<{ queue: string; deadLetters: number }[]>('/api/queues')).find((q) => q.queue === 'default')?.deadLetters === 1, 20_000, 'the dead letter');
      const before = await taskCount();
      const queuesBefore = (await sqs.send(new ListQueuesCommand({}))).QueueUrls?.sort();

      const page = await browser.newPage();
      const titles: Record<string, string> = {};
      for (const attack of Object.keys(pages())) {
        await page.goto(`${attackerUrl}/${attack}`).catch(() => undefined);
        await page.waitForTimeout(300);
        titles[attack] = await page.title().catch(() => '');
      }
      await page.goto(`${attackerUrl}/frame`);
      await page.waitForTimeout(500);
      const framed = await page.frames()[1]?.title().catch(() => '');
      await page.close();
      await new Promise((resolve) => setTimeout(resolve, 3_000));

      expect(alive()).toBe(true);
      expect(await taskCount()).toBe(before);
      expect((await sqs.send(new ListQueuesCommand({}))).QueueUrls?.sort()).toEqual(queuesBefore);
      expect((await api<{ queue: string; deadLetters: number }[]>('/api/queues')).find((q) => q.queue === 'default')?.deadLetters).toBe(1);
      expect(titles.read).not.toMatch(/^read /);
      expect(framed).not.toMatch(/taskq/);
      // And a request of the developer's own still works: nothing was polluted along the way.
      const sent = await fetch(`${cloud.dashboardUrl}/api/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task: 'default.noop', payload: { echo: 'after' } }) });
      const { id } = (await sent.json()) as { id: string };
      await waitFor(async () => (await api<{ status: string }>(`/api/tasks/${id}`)).status === 'SUCCESS', 20_000, 'a task after the attacks');
    });
  });

  it('survives a seeded fuzzing pass over every port, answering every request', async () => {
    const next = random(20261202);
    const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
    const seeds = [
      ['dashboard', 'GET /api/tasks?limit=5&status=FAILURE', ''],
      ['dashboard', 'GET /api/tasks/abc?wait=10', ''],
      ['dashboard', 'POST /api/tasks\r\nContent-Type: application/json', '{"task":"default.noop","payload":{"echo":"fuzz"}}'],
      ['dashboard', 'POST /api/dlq/default/redrive\r\nContent-Type: application/json', '{"taskIds":["a"]}'],
      ['dashboard', 'POST /actions/send\r\nContent-Type: application/x-www-form-urlencoded', 'task=default.noop&payload=%7B%7D'],
      ['dashboard', 'GET /tasks?search=x&since=2026-01-01', ''],
      ['webhook', 'POST /webhook\r\nStripe-Signature: t=1,v1=abc', '{"id":"evt_1","type":"invoice.paid"}'],
      ['emulator', 'GET /?Action=ListQueues&QueueNamePrefix=local', ''],
      ['emulator', 'POST /\r\nContent-Type: application/x-www-form-urlencoded', 'Action=GetQueueUrl&QueueName=local-default'],
      ['emulator', 'POST /\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: AmazonSQS.ListQueues', '{}'],
    ] as const;
    const noise = ['%', '%zz', '%00', '//', '/..', '__proto__', 'constructor', '\u00ff', '{', '"', '[[[[[[[[', '&', '=', '.', '\\u0000', 'x'.repeat(5000)];
    const mutate = (text: string) => {
      let mutated = text;
      for (let n = 1 + Math.floor(next() * 3); n > 0; n--) {
        const at = Math.floor(next() * (mutated.length + 1));
        mutated = next() < 0.5 ? `${mutated.slice(0, at)}${pick(noise)}${mutated.slice(at)}` : `${mutated.slice(0, at)}${mutated.slice(at + 1 + Math.floor(next() * 4))}`;
      }
      return mutated;
    };
    const statuses = new Map<number, number>();
    for (let i = 0; i < 300; i++) {
      const [port, head, body] = pick(seeds);
      const [line, ...headers] = head.split('\r\n');
      const [method, target] = line!.split(' ');
      const request = `${method} ${next() < 0.7 ? mutate(target!).replaceAll(' ', '%20').replaceAll('\r', '').replaceAll('\n', '') : target} HTTP/1.1${headers.map((h) => `\r\n${h}`).join('')}`;
      const base = { dashboard: cloud.dashboardUrl, webhook: cloud.webhookUrl, emulator: cloud.endpoint }[port];
      const sent = next() < 0.6 ? mutate(body) : body;
      const answer = await raw(base, request, sent);
      // A request node's own parser cannot read is closed with a 400 of its own; anything else gets an answer.
      const what = `case ${i}: ${request}\n${sent.slice(0, 200)}\n→ ${answer.text.slice(0, 300)}`;
      expect(answer.status, what).toBeGreaterThanOrEqual(200);
      expect(answer.status, what).not.toBe(500);
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    }
    expect(alive()).toBe(true);
    expect(statuses.size).toBeGreaterThan(2);
  });
});
