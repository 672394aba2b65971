/**
 * Aurora Serverless v2 at minimum capacity 0 pauses when idle; the Data API then answers
 * `DatabaseResumingException` for the seconds it takes to resume.
 */
export function isDatabaseResuming(error: unknown): boolean {
  for (let current = error; current instanceof Error; current = current.cause) {
    if (current.name === 'DatabaseResumingException' || /resuming after being auto-paused/i.test(current.message)) return true;
  }
  return false;
}

/** Runs `work`, waiting out a resuming cluster for up to `timeoutMs`; other errors pass straight through. */
export async function retryWhileResuming<T>(work: () => Promise<T>, options: { timeoutMs: number; pauseMs?: number }): Promise<T> {
  const end = Date.now() + options.timeoutMs;
  for (;;) {
    try {
      return await work();
    } catch (error) {
      if (!isDatabaseResuming(error) || Date.now() >= end) throw error;
      await new Promise((resolve) => setTimeout(resolve, options.pauseMs ?? 5_000));
    }
  }
}
