import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { createCluster, type ClusterOptions, type ExecuteInput } from './data-api/cluster.ts';
import { refusals, ServiceError } from './data-api/errors.ts';
import { limits, requestSize } from './data-api/limits.ts';

/** The server behind the Data API double: the PostgreSQL the suite runs on, or the local one. */
const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A call the double refused, and the exception it answered with (`Type: message`). */
export interface Failure {
  readonly sql: string;
  readonly reason: string;
}

/**
 * The RDS Data API of Aurora Serverless v2 (REST-JSON: ExecuteStatement, Begin/Commit/Rollback
 * Transaction) in front of a fresh PostgreSQL database, as strict as the service: typed `:name`
 * parameters, one statement per call, its size and time limits, and its field kinds and formats
 * (each rule cites its source in `data-api/`). It can answer `DatabaseResumingException` like a
 * paused Aurora cluster, and records every statement and every refusal.
 */
export async function startDataApiDouble(options: ClusterOptions = {}) {
  const database = `dataapi_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${database}`);
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  // Every value stays PostgreSQL's text, which the double converts as the Data API does; its
  // sessions run in UTC (https://github.com/tmokmss/aurora-data-api-proxy/blob/main/COMPATIBILITY.md).
  const pool = new pg.Pool({ connectionString: url.href, max: 4, options: '-c TimeZone=UTC', types: { getTypeParser: () => (value: string) => value } });
  // A server restart (the fault suite's) ends idle clients; unheard, their errors would end the test process.
  pool.on('error', () => undefined);
  const cluster = createCluster(pool, admin, options);
  const state = { resumingFor: 0, statements: [] as string[], refused: [] as string[], failures: [] as Failure[] };

  const routes: Record<string, (input: Record<string, unknown>) => Promise<unknown>> = {
    '/Execute': (input) => {
      state.statements.push(String(input.sql));
      return cluster.execute(input as unknown as ExecuteInput);
    },
    '/BeginTransaction': () => cluster.begin(),
    '/CommitTransaction': (input) => cluster.commit(String(input.transactionId)),
    '/RollbackTransaction': (input) => cluster.rollback(String(input.transactionId)),
  };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const body = Buffer.concat(chunks);
      const reply = (status: number, payload: unknown, type?: string) => {
        response.writeHead(status, { 'content-type': 'application/json', ...(type ? { 'x-amzn-errortype': type } : {}) });
        response.end(JSON.stringify(payload));
      };
      const refuse = (sql: string, error: ServiceError) => {
        state.failures.push({ sql, reason: `${error.type}: ${error.message}` });
        reply(error.status, error.message ? { message: error.message } : {}, error.type);
      };
      const operation = (request.url ?? '').slice(1);
      if (requestSize(request, body) > limits.requestBytes) return refuse(operation, refusals.requestTooLarge());
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        return refuse(operation, new ServiceError('SerializationException', 'The request body is not valid JSON'));
      }
      const sql = typeof input.sql === 'string' ? input.sql : operation;
      if (state.resumingFor > 0) {
        state.resumingFor--;
        state.refused.push(body.toString('utf8'));
        return refuse(sql, new ServiceError('DatabaseResumingException', 'The Aurora DB instance is resuming after being auto-paused. Please wait a few seconds and try again.'));
      }
      const route = routes[request.url ?? ''];
      if (!route) return refuse(sql, new ServiceError('UnknownOperationException', `unknown operation ${request.url}`, 404));
      try {
        reply(200, await route(input));
      } catch (error) {
        refuse(sql, error instanceof ServiceError ? error : new ServiceError('DatabaseErrorException', (error as Error).message));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    endpoint,
    /** The database behind the double, for a client that reads it directly (Python's Celery). */
    databaseUrl: url.href,
    target: {
      kind: 'data-api' as const,
      resourceArn: 'arn:aws:rds:us-east-1:000000000000:cluster:tasks',
      secretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:tasks-admin',
      database: 'tasks',
      region: 'us-east-1',
      endpoint,
    },
    state,
    /** Answers the next `requests` calls as a cluster resuming from auto-pause. */
    resumeFor(requests: number) {
      state.resumingFor = requests;
    },
    async stop() {
      await new Promise((resolve) => server.close(resolve));
      cluster.close();
      await pool.end();
      await admin.query(`drop database ${database} with (force)`);
      await admin.end();
    },
  };
}
