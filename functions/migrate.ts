import { Logger } from '@aws-lambda-powertools/logger';
import { readConfig } from '../shared/config.ts';
import { applyCeleryResults, celeryResultsSettings } from '../shared/results/celery-results.ts';
import { migrateDatabase, openDatabase } from '../shared/results/database.ts';
import { retryWhileResuming } from '../shared/results/resume.ts';
import { serviceName } from '../shared/observability/index.ts';

const logger = new Logger({ serviceName });
const config = readConfig(process.env);

/** The backfill's share of the function's 10 minutes; a longer history goes on at the next run. */
const backfillMs = 6 * 60_000;

/**
 * Applies the result store's migrations on deploy (a CDK trigger), as the local cloud does
 * on start, then creates or drops the triggers writing Celery's result rows (`CELERY_RESULTS`).
 */
export const handler = async (): Promise<{ migrated: true; celeryResults: string }> => {
  const database = await openDatabase(config.database);
  try {
    await retryWhileResuming(() => migrateDatabase(database), { timeoutMs: 5 * 60_000 });
    const celeryResults = await applyCeleryResults(database, celeryResultsSettings(config), {
      backfillMs,
      retry: (statement) => retryWhileResuming(statement, { timeoutMs: 60_000 }),
    });
    if (celeryResults === 'backfilling') {
      logger.warn('Celery results are on, but rows recorded before the switch are not all backfilled yet: invoke this function again to go on');
    }
    logger.info('migrations applied', { target: database.target, celeryResults });
    return { migrated: true, celeryResults };
  } finally {
    await database.close();
  }
};
