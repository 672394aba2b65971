import { newEnvelope } from '../../../shared/envelope/envelope.ts';
import { awaitResults, sendAll, userId } from '../seeds.ts';
import { failure, lastLogs, type Check } from './check.ts';
import { stage } from './tasks.ts';

/**
 * A unique task's key, taken in the result store by the consumer bundle: two requests for
 * one export, sent by hand under two ids at once, run once, and the other ends REVOKED
 * naming the one that ran.
 */
export const uniqueTaskFolded: Check = {
  name: 'two requests for one export within its unique window run once, the other REVOKED naming it',
  timeoutMs: 60_000,
  async run(rehearsal) {
    const requests = [newEnvelope('data.export_data', { userId, format: 'json' }), newEnvelope('data.export_data', { userId, format: 'json' })];
    await sendAll(rehearsal, `${stage(rehearsal)}-data`, requests);
    const rows = await awaitResults(rehearsal, requests.map((request) => request.id), 45_000);
    const ran = rows.filter((row) => row.status === 'SUCCESS');
    const folded = rows.filter((row) => row.status === 'REVOKED');
    if (ran.length !== 1 || folded.length !== 1 || folded[0]!.error !== `unique: the same request as ${ran[0]!.id}`) {
      throw failure(`expected one SUCCESS and one REVOKED naming it, found ${JSON.stringify(rows.map(({ id, status, error }) => ({ id, status, error })))}\n  consumer log:\n${lastLogs(rehearsal, 'DataTasksConsumer')}`, rehearsal);
    }
    return `${ran[0]!.id} ran; ${folded[0]!.id} folded into it`;
  },
};
