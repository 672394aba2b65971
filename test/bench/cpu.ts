/** CPU time of processes, so a run on a busy machine still shows what each side spent. */
import { readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc reports CPU time in these ticks. */
const ticksPerSecond = 100;

/** User + system CPU milliseconds a process has used so far, from /proc (0 where there is none). */
export function processCpuMs(pid: number): number {
  try {
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th of the line.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  } catch {
    return 0;
  }
}

/** CPU milliseconds this process and the others named spend while `work` runs. */
export async function cpuDuring<T>(pids: Record<string, number>, work: () => Promise<T>): Promise<{ result: T; cpuMs: Record<string, number> }> {
  const ownBefore = process.cpuUsage();
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, processCpuMs(pid)]));
  const result = await work();
  const own = process.cpuUsage(ownBefore);
  return {
    result,
    cpuMs: {
      bench: (own.user + own.system) / 1000,
      ...Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, processCpuMs(pid) - before[name]!])),
    },
  };
}
