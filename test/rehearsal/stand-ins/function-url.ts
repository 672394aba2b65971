import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { functionUrlEvent, functionUrlResponse } from '../events.ts';
import type { LambdaFunction } from '../runtime.ts';

/**
 * A Lambda function URL (auth type NONE): an HTTP request becomes a payload format 2.0
 * event, the function's result the HTTP answer. A function error or timeout is a 502, as
 * the service answers it (https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html).
 */
export async function startFunctionUrl(fn: LambdaFunction, url: { urlId: string; region: string; accountId: string }) {
  const server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', async () => {
      const event = functionUrlEvent(
        { method: incoming.method ?? 'GET', url: incoming.url ?? '/', headers: incoming.headers, body: Buffer.concat(chunks), sourceIp: incoming.socket.remoteAddress ?? '127.0.0.1' },
        url,
      );
      const outcome = await fn.invoke(event);
      if (outcome.kind !== 'response') {
        response.writeHead(502, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ Message: 'Internal Server Error' }));
        return;
      }
      const answer = functionUrlResponse(outcome.payload);
      response.writeHead(answer.status, { ...answer.headers, ...(answer.cookies.length > 0 ? { 'set-cookie': [...answer.cookies] } : {}) });
      response.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    stop: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
