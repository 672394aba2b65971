import type { TaskImplementation } from '../runtime/task.ts';
import { generateEmbeddings, processAiRequest } from './ai.ts';
import { processPendingWebhooks, processRefund, sendInvoice, syncSubscriptionStatus } from './billing.ts';
import { cleanupTaskResults, noop } from './default.ts';
import { cleanupTempFiles, exportData, processFileUpload } from './data.ts';

/** The code deployed for catalogue tasks; a catalogue task without an entry is dead-lettered with that reason. */
export const implementations: readonly TaskImplementation[] = [
  noop,
  cleanupTaskResults,
  processPendingWebhooks,
  syncSubscriptionStatus,
  sendInvoice,
  processRefund,
  processAiRequest,
  generateEmbeddings,
  processFileUpload,
  exportData,
  cleanupTempFiles,
];
