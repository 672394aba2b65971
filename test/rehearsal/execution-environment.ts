import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Invocation {
  readonly requestId: string;
  readonly event: unknown;
  /** Epoch milliseconds at which the function times out. */
  readonly deadlineMs: number;
  readonly functionArn: string;
  readonly traceId: string;
}

export type InvocationOutcome =
  | { readonly kind: 'response'; readonly payload: unknown }
  | { readonly kind: 'error'; readonly phase: 'init' | 'invoke'; readonly errorType: string; readonly errorMessage: string }
  | { readonly kind: 'timeout'; readonly phase: 'init' | 'invoke'; readonly errorMessage: string };

export interface EnvironmentSettings {
  readonly node: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** The process's whole environment, less AWS_LAMBDA_RUNTIME_API, which is added here. */
  readonly environment: Readonly<Record<string, string>>;
  readonly onLog: (line: string) => void;
}

const prefix = '/2018-06-01/runtime';

interface InitSignal {
  resolve(): void;
  reject(outcome: InvocationOutcome): void;
}

/**
 * One execution environment: a fresh process running our bootstrap, and the Runtime API
 * it talks to (each Lambda sandbox has its own, at AWS_LAMBDA_RUNTIME_API).
 * https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
 */
export class ExecutionEnvironment {
  readonly #server: Server;
  readonly #child: ChildProcess;
  #waitingNext: ServerResponse | undefined;
  #current: { readonly requestId: string; readonly settle: (outcome: InvocationOutcome) => void } | undefined;
  readonly #initialised: InitSignal;
  #initError: InvocationOutcome | undefined;
  readonly #idleWaiters: (() => void)[] = [];
  exited = false;

  private constructor(server: Server, settings: EnvironmentSettings, initialised: InitSignal) {
    this.#server = server;
    this.#initialised = initialised;
    server.on('request', (request: IncomingMessage, response: ServerResponse) => this.#route(request, response));
    const port = (server.address() as AddressInfo).port;
    this.#child = spawn(settings.node, settings.args, {
      cwd: settings.cwd,
      env: { ...settings.environment, AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${port}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [this.#child.stdout!, this.#child.stderr!]) {
      let partial = '';
      stream.setEncoding('utf8').on('data', (text: string) => {
        const lines = (partial + text).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) settings.onLog(line);
      });
    }
    this.#child.on('exit', (code, signal) => {
      this.exited = true;
      const reason = `${signal ? `signal ${signal}` : `exit status ${code}`}`;
      this.#initialised.reject(this.#initError ?? { kind: 'error', phase: 'init', errorType: 'Runtime.ExitError', errorMessage: `the runtime exited before it was ready (${reason})` });
      this.#settle({ kind: 'error', phase: 'invoke', errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${this.#current?.requestId} Error: Runtime exited with error: ${reason}` });
      this.#server.close();
      this.#server.closeAllConnections();
      for (const wake of this.#idleWaiters.splice(0)) wake();
    });
  }

  /**
   * Starts the process and waits until its handler module is loaded (its first `next`), or
   * for the init error it reports; at `initDeadlineMs` the process is killed (a timeout).
   */
  static async start(settings: EnvironmentSettings, initDeadlineMs: number): Promise<{ environment: ExecutionEnvironment; initMs: number }> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const started = performance.now();
    let initialised!: InitSignal;
    const ready = new Promise<void>((resolve, reject) => {
      initialised = { resolve, reject };
    });
    const environment = new ExecutionEnvironment(server, settings, initialised);
    const timer = setTimeout(() => {
      environment.#initError = { kind: 'timeout', phase: 'init', errorMessage: `the handler module did not load within Lambda's 10 s init phase` };
      environment.kill();
    }, Math.max(0, initDeadlineMs - Date.now()));
    try {
      await ready;
    } finally {
      clearTimeout(timer);
    }
    return { environment, initMs: performance.now() - started };
  }

  get idle(): boolean {
    return !this.exited && this.#current === undefined && this.#waitingNext !== undefined;
  }

  /** Between a response and the runtime's next `next` call: idle in a moment. */
  get finishing(): boolean {
    return !this.exited && this.#current === undefined && this.#waitingNext === undefined;
  }

  /** Resolves when the runtime asks for its next event, or after `ms`. */
  untilIdle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Hands the event to the waiting `next` call; at the deadline the process is killed, as Lambda ends a timed-out sandbox. */
  invoke(invocation: Invocation): Promise<InvocationOutcome> {
    const next = this.#waitingNext;
    if (!next || this.#current) throw new Error('the execution environment is not idle');
    this.#waitingNext = undefined;
    const seconds = ((invocation.deadlineMs - Date.now()) / 1000).toFixed(2);
    return new Promise<InvocationOutcome>((resolve) => {
      const timer = setTimeout(() => {
        this.#settle({ kind: 'timeout', phase: 'invoke', errorMessage: `RequestId: ${invocation.requestId} Error: Task timed out after ${seconds} seconds` });
        this.kill();
      }, Math.max(0, invocation.deadlineMs - Date.now()));
      this.#current = {
        requestId: invocation.requestId,
        settle: (outcome) => {
          clearTimeout(timer);
          resolve(outcome);
        },
      };
      next.writeHead(200, {
        'content-type': 'application/json',
        'lambda-runtime-aws-request-id': invocation.requestId,
        'lambda-runtime-deadline-ms': String(invocation.deadlineMs),
        'lambda-runtime-invoked-function-arn': invocation.functionArn,
        'lambda-runtime-trace-id': invocation.traceId,
      });
      next.end(JSON.stringify(invocation.event));
    });
  }

  kill(): void {
    if (!this.exited) this.#child.kill('SIGKILL');
  }

  #settle(outcome: InvocationOutcome): void {
    const current = this.#current;
    this.#current = undefined;
    current?.settle(outcome);
  }

  #route(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '';
      const body = Buffer.concat(chunks).toString('utf8');
      const accepted = () => {
        response.writeHead(202, { 'content-type': 'application/json' });
        response.end('{"status":"OK"}');
      };
      if (request.method === 'GET' && path === `${prefix}/invocation/next`) {
        this.#waitingNext = response;
        this.#initialised.resolve();
        for (const wake of this.#idleWaiters.splice(0)) wake();
        return;
      }
      if (request.method === 'POST' && path === `${prefix}/init/error`) {
        const error = JSON.parse(body || '{}') as { errorType?: string; errorMessage?: string };
        this.#initError = { kind: 'error', phase: 'init', errorType: error.errorType ?? 'Runtime.Unknown', errorMessage: error.errorMessage ?? body };
        return accepted();
      }
      const match = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(path);
      if (request.method === 'POST' && match && match[1] === this.#current?.requestId) {
        accepted();
        if (match[2] === 'response') return this.#settle({ kind: 'response', payload: body ? JSON.parse(body) : null });
        const error = JSON.parse(body || '{}') as { errorType?: string; errorMessage?: string };
        return this.#settle({ kind: 'error', phase: 'invoke', errorType: error.errorType ?? 'Error', errorMessage: error.errorMessage ?? body });
      }
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ errorType: 'InvalidRequestID', errorMessage: `not an open invocation: ${request.method} ${path}` }));
    });
  }
}
