import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { stageSettings } from '../../infra/stage.ts';
import { TaskPlatformStack } from '../../infra/task-platform-stack.ts';

/**
 * Synthesizes the stack for a stage with cdk-nag's AwsSolutions checks, as `cdk synth`
 * does. Bundling is skipped unless asked for: the template does not depend on it.
 */
export function synthesize(context: Record<string, string>, options: { bundle?: boolean } = {}) {
  const outdir = mkdtempSync(join(tmpdir(), 'taskq-cdk-'));
  const app = new App({
    outdir,
    context: { ...context, ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
  });
  const stage = stageSettings((key) => app.node.tryGetContext(key));
  const stack = new TaskPlatformStack(app, `DataCleanupTasks-${stage.name}`, { stage });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  let nagReport: unknown;
  try {
    app.synth();
  } catch (error) {
    nagReport = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8'));
    if (!nagReport) throw error;
  }
  return { app, stack, outdir, nagReport, template: nagReport ? undefined : Template.fromStack(stack) };
}
