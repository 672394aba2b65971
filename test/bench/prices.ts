/**
 * AWS list prices behind the cost figures: us-east-1, as published on the date below.
 * Free tiers are left out. Update the date with the numbers.
 */
export const prices = {
  asOf: '2026-11-27',
  region: 'us-east-1',
  lambda: {
    /** arm64 (Graviton), per GB-second of billed duration (rounded up to 1 ms per invocation). */
    perGbSecond: 0.0000133334,
    perMillionRequests: 0.2,
  },
  sqs: {
    /** Standard queues; each 64 KiB chunk of a request's payload is billed as one request. */
    perMillionRequests: 0.4,
  },
  rdsDataApi: {
    /** The first billion requests a month. */
    perMillionRequests: 0.35,
  },
  cloudWatchLogs: {
    /** Standard log class ingestion (Lambda's logs, EMF metrics included), per GB. */
    perGbIngested: 0.5,
  },
  scheduler: {
    /** EventBridge Scheduler: per schedule invocation (a schedule's firing, a one-time long-ETA schedule). */
    perMillionInvocations: 1.0,
  },
} as const;
