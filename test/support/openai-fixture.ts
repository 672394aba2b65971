import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local server speaking OpenAI's chat-completions and embeddings wire format, so the
 * official SDK runs unchanged against it (as it would against vLLM or Ollama).
 */
export async function startOpenAiFixture() {
  const state = {
    requests: [] as { path: string; body: Record<string, unknown> }[],
    /** Answers for the next requests, e.g. `{ status: 429, retryAfter: 1 }`. */
    failures: [] as { status: number; retryAfter?: number }[],
    /** How long each answer takes: a slow model, so a task stays running for a while. */
    delayMs: 0,
  };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        const answer = () => {
          if (response.destroyed) return;
          response.writeHead(status, { 'content-type': 'application/json', ...headers });
          response.end(JSON.stringify(body));
        };
        if (state.delayMs > 0) setTimeout(answer, state.delayMs);
        else answer();
      };
      if (request.headers.authorization !== 'Bearer sk-test-local') return reply(401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } });
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      state.requests.push({ path, body });
      const failure = state.failures.shift();
      if (failure) {
        const type = failure.status === 429 ? 'rate_limit_exceeded' : failure.status >= 500 ? 'server_error' : 'invalid_request_error';
        return reply(failure.status, { error: { message: `injected ${failure.status}`, type, code: null } }, failure.retryAfter ? { 'retry-after': String(failure.retryAfter) } : {});
      }
      if (path === '/v1/chat/completions') {
        const messages = body.messages as { content: string }[];
        const prompt = messages.at(-1)?.content ?? '';
        return reply(200, {
          id: `chatcmpl-${state.requests.length}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: body.model,
          choices: [{ index: 0, message: { role: 'assistant', content: `echo: ${prompt}`, refusal: null }, finish_reason: 'stop', logprobs: null }],
          usage: { prompt_tokens: prompt.split(/\s+/).length, completion_tokens: prompt.split(/\s+/).length + 1, total_tokens: 2 * prompt.split(/\s+/).length + 1 },
        });
      }
      if (path === '/v1/embeddings') {
        const input = body.input as string[];
        // The SDK asks for base64 (little-endian float32) and decodes it, as the real API answers.
        const encode = (vector: number[]) => (body.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector);
        return reply(200, {
          object: 'list',
          model: body.model,
          data: input.map((text, index) => ({ object: 'embedding', index, embedding: encode([text.length, index, 0.5]) })),
          usage: { prompt_tokens: input.length, total_tokens: input.length },
        });
      }
      reply(404, { error: { message: `Invalid URL (${request.method} ${path})`, type: 'invalid_request_error', code: null } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    state,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
