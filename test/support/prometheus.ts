import { spawnSync } from 'node:child_process';
import { debianPython } from './celery-python.ts';

/** A metric family as the official Prometheus client's parser reads it (a counter's name without `_total`). */
export interface ParsedFamily {
  readonly name: string;
  readonly type: string;
  readonly samples: readonly { readonly name: string; readonly labels: Readonly<Record<string, string>>; readonly value: number }[];
}

const parser = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
families = [{'name': f.name, 'type': f.type, 'samples': [{'name': s.name, 'labels': s.labels, 'value': s.value} for s in f.samples]}
            for f in text_string_to_metric_families(sys.stdin.read())]
print(json.dumps(families))
`;

/** Why the parser cannot run here (CI installs it: `apt-get install python3-prometheus-client`), or undefined. */
export const prometheusParserUnavailable: string | undefined = (() => {
  const probe = spawnSync(debianPython, ['-c', 'import prometheus_client.parser'], { encoding: 'utf8' });
  return probe.status === 0 ? undefined : `${debianPython} lacks prometheus_client: apt-get install python3-prometheus-client`;
})();

/** Parses a text exposition with prometheus_client's own parser, which refuses what Prometheus would not scrape. */
export function parseExposition(text: string): ParsedFamily[] {
  const run = spawnSync(debianPython, ['-c', parser], { input: text, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`the exposition does not parse: ${run.stderr.trim().split('\n').at(-1)}`);
  return JSON.parse(run.stdout) as ParsedFamily[];
}
