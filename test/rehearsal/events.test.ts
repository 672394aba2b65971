import { describe, expect, it } from 'vitest';
import { functionUrlEvent, functionUrlResponse, isTextContent, scheduledInput } from './events.ts';

const url = { urlId: 'abc123', region: 'us-east-1', accountId: '000000000000' };
const post = (contentType: string | undefined, body: Buffer) => functionUrlEvent({ method: 'POST', url: '/hook?a=1&a=2&b=x', headers: { ...(contentType ? { 'content-type': contentType } : {}), 'stripe-signature': 't=1,v1=s', cookie: 'c1=1; c2=2' }, body, sourceIp: '203.0.113.9' }, url);

describe('function URL events (payload format 2.0)', () => {
  it.each<[string | undefined, boolean]>([
    ['application/json; charset=utf-8', true],
    ['text/plain', true],
    ['application/vnd.api+json', true],
    ['application/octet-stream', false],
    ['image/png', false],
    [undefined, false],
  ])('a %s body is passed as text: %s', (contentType, text) => {
    expect(isTextContent(contentType)).toBe(text);
  });

  it('passes a JSON body as the exact text received, headers lower-cased, cookies and query apart', () => {
    const body = '{"id": "evt_1",\n "object": "event"}';
    const event = post('application/json; charset=utf-8', Buffer.from(body));
    expect(event).toMatchObject({
      version: '2.0', routeKey: '$default', rawPath: '/hook', rawQueryString: 'a=1&a=2&b=x', isBase64Encoded: false, body,
      cookies: ['c1=1', 'c2=2'], queryStringParameters: { a: '1,2', b: 'x' },
      headers: { 'stripe-signature': 't=1,v1=s', host: 'abc123.lambda-url.us-east-1.on.aws' },
      requestContext: { http: { method: 'POST', path: '/hook', sourceIp: '203.0.113.9' }, domainPrefix: 'abc123', stage: '$default' },
    });
  });

  it('base64-encodes a binary body and says so', () => {
    const event = post('application/octet-stream', Buffer.from([0, 255, 1]));
    expect(event).toMatchObject({ isBase64Encoded: true, body: 'AP8B' });
  });

  it("answers a statusCode result as given, and anything else as a 200 JSON body", () => {
    expect(functionUrlResponse({ statusCode: 400, headers: { 'content-type': 'application/json' }, body: '{"error":"x"}' })).toMatchObject({ status: 400, body: Buffer.from('{"error":"x"}') });
    expect(functionUrlResponse({ statusCode: 200, body: 'AP8B', isBase64Encoded: true }).body).toEqual(Buffer.from([0, 255, 1]));
    expect(functionUrlResponse({ received: true })).toMatchObject({ status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"received":true}') });
  });
});

describe('scheduled input', () => {
  it("fills in Scheduler's scheduled-time context attribute, to the second, in UTC", () => {
    const input = '{"id":"cleanup:<aws.scheduler.scheduled-time>","createdAt":"<aws.scheduler.scheduled-time>"}';
    expect(scheduledInput(input, new Date('2026-12-02T13:00:00.250Z'))).toBe('{"id":"cleanup:2026-12-02T13:00:00Z","createdAt":"2026-12-02T13:00:00Z"}');
  });
});
