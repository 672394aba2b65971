/** One measured or derived number, the table row it becomes, and its verdict against a target. */

export const partNames = ['throughput', 'latency', 'round-trips', 'cold-start', 'cost', 'memory'] as const;
export type PartName = (typeof partNames)[number];

/** Tells the parent how far a long phase has got. */
export type Progress = (phase: string, done: number, total: number) => void;

export interface Target {
  /** `most`: the value must not exceed the target; `least`: it must reach it. */
  readonly at: 'most' | 'least';
  readonly value: number;
}

export interface Figure {
  readonly part: PartName;
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly target?: Target;
  /** Decimal places in the table. @default 0 */
  readonly digits?: number;
}

export function verdict(figure: Figure): 'pass' | 'fail' | undefined {
  const { target, value } = figure;
  if (!target) return undefined;
  return (target.at === 'most' ? value <= target.value : value >= target.value) ? 'pass' : 'fail';
}

function format(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** The markdown table: one row per figure, with its target and verdict where it has one. */
export function markdownTable(figures: readonly Figure[]): string {
  const rows = figures.map((figure) => {
    const target = figure.target ? `${figure.target.at === 'most' ? '≤' : '≥'} ${format(figure.target.value, figure.digits)}` : '';
    const result = verdict(figure) ?? '';
    return `| ${figure.part} | ${figure.name} | ${format(figure.value, figure.digits)} | ${figure.unit} | ${target} | ${result === 'fail' ? '**fail**' : result} |`;
  });
  return ['| part | figure | value | unit | target | result |', '|---|---|---:|---|---|---|', ...rows].join('\n');
}

/** Nearest-rank percentile of unsorted values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
