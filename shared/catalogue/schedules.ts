import type { ScheduleDefinition } from './define.ts';

/** Celery Beat's `beat_schedule`, plus the result clean-up the seed lists as a next step. */
export const schedules = {
  'cleanup-temp-files': {
    name: 'cleanup-temp-files',
    description: 'Hourly: delete old temporary files',
    expression: 'rate(1 hour)',
    task: 'data.cleanup_temp_files',
    payload: {},
  },
  'process-webhooks': {
    name: 'process-webhooks',
    description: 'Every 5 minutes: apply pending Stripe webhook events',
    expression: 'rate(5 minutes)',
    task: 'billing.process_pending_webhooks',
    payload: {},
  },
  'cleanup-task-results': {
    name: 'cleanup-task-results',
    description: 'Daily at 03:00 UTC: delete task results older than 30 days',
    expression: 'cron(0 3 * * ? *)',
    task: 'default.cleanup_task_results',
    payload: { olderThanDays: 30 },
  },
} as const satisfies Record<string, ScheduleDefinition>;
