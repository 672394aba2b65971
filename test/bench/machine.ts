/** The machine a run measured, from /proc, so numbers are read beside where they came from. */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryMb: number;
  readonly node: string;
  readonly platform: string;
  /** 1-, 5- and 15-minute load averages: other work on the machine skews the figures. */
  readonly loadAverage: readonly number[];
  readonly date: string;
}

function proc(file: string): string {
  try {
    return readFileSync(`/proc/${file}`, 'utf8');
  } catch {
    return '';
  }
}

export function loadAverage(): number[] {
  return proc('loadavg').split(' ').slice(0, 3).map(Number);
}

export function describeMachine(): Machine {
  const cpuinfo = proc('cpuinfo');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim();
  const processors = cpuinfo.match(/^processor\s*:/gm)?.length;
  const memoryKb = Number(/^MemTotal:\s+(\d+) kB/m.exec(proc('meminfo'))?.[1] ?? Number.NaN);
  return {
    cpu: model ?? 'unknown',
    cores: processors ?? availableParallelism(),
    memoryMb: Math.round(memoryKb / 1024),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverage: loadAverage(),
    date: new Date().toISOString(),
  };
}
