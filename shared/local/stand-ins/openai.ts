import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { approximateTokens, deterministicAnswers, embeddingDimensions, type OpenAiAnswers } from './openai-answers.ts';

export interface OpenAiStandInOptions {
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** @default 0 (a free port) */
  readonly port?: number;
  /** The one key it accepts, as `Authorization: Bearer <key>`; any other gets OpenAI's 401. */
  readonly apiKey: string;
  /** @default deterministicAnswers */
  readonly answers?: OpenAiAnswers;
  /** Keep every request in `state.requests`, for a test to read; a long-running cloud keeps none. @default false */
  readonly recordRequests?: boolean;
}

export interface OpenAiStandIn {
  /** What `OPENAI_BASE_URL` is set to: the root of the API, `/v1` included. */
  readonly baseUrl: string;
  readonly state: {
    readonly requests: { path: string; body: Record<string, unknown> }[];
    /** Answers for the next requests, e.g. `{ status: 429, retryAfter: 1 }`. */
    readonly failures: { status: number; retryAfter?: number }[];
    /** How long each answer takes: a slow model, so a task stays running for a while. */
    delayMs: number;
  };
  stop(): Promise<void>;
}

/**
 * A server speaking OpenAI's chat-completions and embeddings wire format, so the official
 * SDK runs unchanged against it (as it would against vLLM or Ollama): the local cloud's
 * stand-in when no OpenAI key is set, and the tests' fixture.
 */
export async function startOpenAiStandIn(options: OpenAiStandInOptions): Promise<OpenAiStandIn> {
  const answers = options.answers ?? deterministicAnswers;
  const state: OpenAiStandIn['state'] = { requests: [], failures: [], delayMs: 0 };
  let completions = 0;
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
      if (request.headers.authorization !== `Bearer ${options.apiKey}`) return reply(401, apiError('Incorrect API key provided', 'invalid_request_error', 'invalid_api_key'));
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        return reply(400, apiError('We could not parse the JSON body of your request.', 'invalid_request_error', null));
      }
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      if (options.recordRequests) state.requests.push({ path, body });
      const failure = state.failures.shift();
      if (failure) {
        const type = failure.status === 429 ? 'rate_limit_exceeded' : failure.status >= 500 ? 'server_error' : 'invalid_request_error';
        return reply(failure.status, apiError(`injected ${failure.status}`, type, null), failure.retryAfter ? { 'retry-after': String(failure.retryAfter) } : {});
      }
      if (request.method === 'POST' && path === '/v1/chat/completions') {
        if (!Array.isArray(body.messages) || typeof body.model !== 'string') return reply(400, apiError("'model' and 'messages' are required", 'invalid_request_error', null));
        const answer = answers.chat(lastMessageText(body.messages), body.model);
        return reply(200, {
          id: `chatcmpl-local-${++completions}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: body.model,
          choices: [{ index: 0, message: { role: 'assistant', content: answer.content, refusal: null }, finish_reason: 'stop', logprobs: null }],
          usage: { prompt_tokens: answer.promptTokens, completion_tokens: answer.completionTokens, total_tokens: answer.promptTokens + answer.completionTokens },
        });
      }
      if (request.method === 'POST' && path === '/v1/embeddings') {
        const input = typeof body.input === 'string' ? [body.input] : body.input;
        if (!Array.isArray(input) || typeof body.model !== 'string') return reply(400, apiError("'model' and 'input' are required", 'invalid_request_error', null));
        const dimensions = embeddingDimensions(body.model, body.dimensions);
        // The SDK asks for base64 (little-endian float32) and decodes it, as the real API answers.
        const encode = (vector: number[]) => (body.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector);
        const texts = input.map(String);
        const tokens = texts.reduce((sum, text) => sum + approximateTokens(text), 0);
        return reply(200, {
          object: 'list',
          model: body.model,
          data: texts.map((text, index) => ({ object: 'embedding', index, embedding: encode(answers.embed(text, index, dimensions)) })),
          usage: { prompt_tokens: tokens, total_tokens: tokens },
        });
      }
      reply(404, apiError(`Invalid URL (${request.method} ${path})`, 'invalid_request_error', null));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    state,
    stop: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      // The SDKs keep their sockets alive: without this, close waits for them to time out.
      server.closeIdleConnections();
    }),
  };
}

/** The text of the last message: a string, or the text parts of a multi-part content. */
function lastMessageText(messages: unknown[]): string {
  const content = (messages.at(-1) as { content?: unknown } | undefined)?.content;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((part) => (part as { text?: unknown }).text).filter((text) => typeof text === 'string').join('\n');
  return '';
}

function apiError(message: string, type: string, code: string | null) {
  return { error: { message, type, code } };
}
