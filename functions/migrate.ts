import { Logger } from '@aws-lambda-powertools/logger';
import { readConfig } from '../shared/config.ts';
import { migrateDatabase, openDatabase } from '../shared/results/database.ts';
import { retryWhileResuming } from '../shared/results/resume.ts';
import { serviceName } from '../shared/observability/index.ts';

const logger = new Logger({ serviceName });
const config = readConfig(process.env);

/** Applies the result store's migrations on deploy (a CDK trigger), as the local cloud does on start. */
export const handler = async (): Promise<{ migrated: true }> => {
  const database = await openDatabase(config.database);
  try {
    await retryWhileResuming(() => migrateDatabase(database), { timeoutMs: 5 * 60_000 });
    logger.info('migrations applied', { target: database.target });
    return { migrated: true };
  } finally {
    await database.close();
  }
};
