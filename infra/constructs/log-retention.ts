import { CfnResource, type IAspect, type RemovalPolicy } from 'aws-cdk-lib';
import { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';

/**
 * Gives every Lambda function a log group with a retention, the ones CDK makes for itself
 * (the migration trigger's provider, S3 auto-delete, log retention) included: without one,
 * Lambda creates `/aws/lambda/<name>` on first run and keeps its logs forever.
 */
export class FunctionLogRetention implements IAspect {
  readonly #settings: { readonly retention: RetentionDays; readonly removalPolicy: RemovalPolicy };

  constructor(settings: { readonly retention: RetentionDays; readonly removalPolicy: RemovalPolicy }) {
    this.#settings = settings;
  }

  visit(node: IConstruct): void {
    if (!(node instanceof CfnResource) || node.cfnResourceType !== 'AWS::Lambda::Function') return;
    // An L1 function keeps its properties as fields; CDK's own provider functions are plain CfnResources.
    const loggingConfig = node instanceof CfnFunction
      ? (node.loggingConfig as { logGroup?: unknown } | undefined)?.logGroup
      : ((node as unknown as { _cfnProperties?: { LoggingConfig?: { LogGroup?: unknown } } })._cfnProperties?.LoggingConfig?.LogGroup);
    if (loggingConfig) return;
    const scope = node.node.scope!;
    const logGroup = new LogGroup(scope, `${node.node.id}Logs`, { retention: this.#settings.retention, removalPolicy: this.#settings.removalPolicy });
    node.addPropertyOverride('LoggingConfig.LogGroup', logGroup.logGroupName);
  }
}
