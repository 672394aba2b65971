import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';

/** The server behind the Data API double: the PostgreSQL the suite runs on, or the local one. */
const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

type Field = { stringValue: string } | { longValue: number } | { doubleValue: number } | { booleanValue: boolean } | { isNull: true };
type Parameter = { name: string; value: Partial<{ stringValue: string; longValue: number; doubleValue: number; booleanValue: boolean; isNull: boolean }>; typeHint?: string };

const integerTypes = new Set([20, 21, 23]);
const floatTypes = new Set([700, 701]);
const typeNames: Record<number, string> = { 16: 'bool', 20: 'int8', 21: 'int2', 23: 'int4', 25: 'text', 114: 'json', 1043: 'varchar', 1184: 'timestamptz', 3802: 'jsonb' };

/**
 * The RDS Data API's wire format (REST-JSON: ExecuteStatement, Begin/Commit/Rollback
 * Transaction, `:name` parameters, typed fields) in front of a fresh PostgreSQL database,
 * so the Data API driver and our statements run through the real SDK client. It can
 * answer `DatabaseResumingException` like a paused Aurora cluster.
 */
export async function startDataApiDouble() {
  const database = `dataapi_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${database}`);
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  // Every value comes back as PostgreSQL's text, as the Data API sees it.
  const pool = new pg.Pool({ connectionString: url.href, max: 4, types: { getTypeParser: () => (value: string) => value } });
  // A server restart (the fault suite's) ends idle clients; unheard, their errors would end the test process.
  pool.on('error', () => undefined);
  const transactions = new Map<string, pg.PoolClient>();
  const state = { resumingFor: 0, statements: [] as string[], refused: [] as string[] };

  const execute = async (input: { sql: string; parameters?: Parameter[]; transactionId?: string; includeResultMetadata?: boolean }) => {
    const names: string[] = [];
    // `:name` placeholders become `$n`; the second colon of a `::type` cast is left alone.
    const text = input.sql.replace(/(?<![:\w]):([A-Za-z_][\w]*|\d+)/g, (_match, name: string) => {
      names.push(name);
      return `$${names.length}`;
    });
    const byName = new Map((input.parameters ?? []).map((p) => [p.name, p]));
    const values = names.map((name) => {
      const value = byName.get(name)?.value;
      if (!value || value.isNull) return null;
      return value.stringValue ?? value.longValue ?? value.doubleValue ?? value.booleanValue ?? null;
    });
    state.statements.push(input.sql);
    const client = input.transactionId ? transactions.get(input.transactionId) : pool;
    if (!client) throw Object.assign(new Error('Transaction not found'), { type: 'BadRequestException' });
    const result = await client.query({ text, values, rowMode: 'array' });
    const records = (result.rows as (string | null)[][]).map((row) =>
      row.map((value, index): Field => {
        const type = result.fields[index]!.dataTypeID;
        if (value === null) return { isNull: true };
        if (integerTypes.has(type)) return { longValue: Number(value) };
        if (floatTypes.has(type)) return { doubleValue: Number(value) };
        if (type === 16) return { booleanValue: value === 't' };
        return { stringValue: value };
      }),
    );
    return {
      records,
      numberOfRecordsUpdated: result.command === 'SELECT' ? 0 : (result.rowCount ?? 0),
      ...(input.includeResultMetadata
        ? { columnMetadata: result.fields.map((f) => ({ name: f.name, label: f.name, typeName: typeNames[f.dataTypeID] ?? 'text', type: 12 })) }
        : {}),
    };
  };

  const routes: Record<string, (input: Record<string, unknown>) => Promise<unknown>> = {
    '/Execute': (input) => execute(input as Parameters<typeof execute>[0]),
    '/BeginTransaction': async () => {
      const client = await pool.connect();
      await client.query('begin');
      const transactionId = randomUUID();
      transactions.set(transactionId, client);
      return { transactionId };
    },
    '/CommitTransaction': async (input) => finish(input.transactionId as string, 'commit', 'Transaction Committed'),
    '/RollbackTransaction': async (input) => finish(input.transactionId as string, 'rollback', 'Rollback Complete'),
  };
  const finish = async (id: string, command: string, status: string) => {
    const client = transactions.get(id);
    if (!client) throw Object.assign(new Error('Transaction not found'), { type: 'NotFoundException' });
    transactions.delete(id);
    try {
      await client.query(command);
    } finally {
      client.release();
    }
    return { transactionStatus: status };
  };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const reply = (status: number, body: unknown, type?: string) => {
        response.writeHead(status, { 'content-type': 'application/json', ...(type ? { 'x-amzn-errortype': type } : {}) });
        response.end(JSON.stringify(body));
      };
      if (state.resumingFor > 0) {
        state.resumingFor--;
        state.refused.push(Buffer.concat(chunks).toString('utf8'));
        return reply(400, { message: 'The Aurora DB instance is resuming after being auto-paused. Please wait a few seconds and try again.' }, 'DatabaseResumingException');
      }
      const route = routes[request.url ?? ''];
      if (!route) return reply(404, { message: `unknown operation ${request.url}` }, 'UnknownOperationException');
      try {
        reply(200, await route(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}')));
      } catch (error) {
        const { message, type } = error as { message: string; type?: string };
        reply(400, { message }, type ?? 'DatabaseErrorException');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    target: {
      kind: 'data-api' as const,
      resourceArn: 'arn:aws:rds:us-east-1:000000000000:cluster:tasks',
      secretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:tasks-admin',
      database: 'tasks',
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    },
    state,
    /** Answers the next `requests` calls as a cluster resuming from auto-pause. */
    resumeFor(requests: number) {
      state.resumingFor = requests;
    },
    async stop() {
      await new Promise((resolve) => server.close(resolve));
      for (const client of transactions.values()) client.release();
      await pool.end();
      await admin.query(`drop database ${database} with (force)`);
      await admin.end();
    },
  };
}
