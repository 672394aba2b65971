import { Duration, Validations, type Resource } from 'aws-cdk-lib';
import { FlowLogDestination, SubnetType, Vpc } from 'aws-cdk-lib/aws-ec2';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  AuroraPostgresEngineVersion,
  ClusterInstance,
  Credentials,
  DatabaseCluster,
  DatabaseClusterEngine,
} from 'aws-cdk-lib/aws-rds';
import { Trigger } from 'aws-cdk-lib/triggers';
import { Construct } from 'constructs';
import { TaskFunction } from './bundling.ts';
import type { StageSettings } from '../stage.ts';

export const databaseName = 'tasks';

/**
 * The result store: Aurora Serverless v2 PostgreSQL with the Data API, in a VPC of its
 * own with no internet route. Lambdas stay out of the VPC and reach it through the Data
 * API; migrations run on every deploy that changes them.
 */
export class ResultStore extends Construct {
  readonly cluster: DatabaseCluster;
  readonly vpc: Vpc;
  /** The function the deploy trigger runs: migrations, then the Celery results switch. */
  readonly migrations: TaskFunction;

  constructor(scope: Construct, id: string, props: { stage: StageSettings }) {
    super(scope, id);
    const { stage } = props;
    this.vpc = new Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'database', subnetType: SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
      flowLogs: {
        rejected: {
          destination: FlowLogDestination.toCloudWatchLogs(new LogGroup(this, 'FlowLogs', { retention: RetentionDays.ONE_MONTH, removalPolicy: stage.removalPolicy })),
        },
      },
    });

    // The exported log's group, made before the cluster so it has a retention and the stage's removal
    // policy; `cloudwatchLogsRetention` would set it through a custom resource and a Lambda function of CDK's.
    const clusterIdentifier = `${stage.name}-datacleanup-tasks`;
    const postgresLog = new LogGroup(this, 'PostgresLog', {
      logGroupName: `/aws/rds/cluster/${clusterIdentifier}/postgresql`,
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: stage.removalPolicy,
    });
    this.cluster = new DatabaseCluster(this, 'Cluster', {
      clusterIdentifier,
      engine: DatabaseClusterEngine.auroraPostgres({ version: AuroraPostgresEngineVersion.VER_17_7 }),
      writer: ClusterInstance.serverlessV2('writer', { autoMinorVersionUpgrade: true }),
      serverlessV2MinCapacity: stage.minCapacity,
      serverlessV2MaxCapacity: stage.maxCapacity,
      ...(stage.minCapacity === 0 ? { serverlessV2AutoPauseDuration: stage.autoPause } : {}),
      enableDataApi: true,
      credentials: Credentials.fromGeneratedSecret('tasks_admin'),
      defaultDatabaseName: databaseName,
      storageEncrypted: true,
      iamAuthentication: true,
      port: 5433,
      vpc: this.vpc,
      vpcSubnets: { subnetType: SubnetType.PRIVATE_ISOLATED },
      backup: { retention: stage.backupRetention },
      cloudwatchLogsExports: ['postgresql'],
      deletionProtection: stage.deletionProtection,
      removalPolicy: stage.removalPolicy,
    });
    this.cluster.node.addDependency(postgresLog);
    // CDK gives the writer, the subnet group and the admin secret `Delete` under any policy but RETAIN
    // (RETAIN_ON_UPDATE_OR_DELETE included): they follow the cluster's, so a kept cluster keeps them.
    for (const part of ['writer', 'Subnets', 'Secret']) (this.cluster.node.findChild(part) as Resource).applyRemovalPolicy(stage.removalPolicy);
    if (!stage.deletionProtection) {
      Validations.of(this.cluster).acknowledge({
        id: 'AwsSolutions-RDS10',
        reason: `Stage ${stage.name} is disposable: without deletion protection \`cdk destroy\` removes it. Production stages turn it on.`,
      });
    }
    Validations.of(this.cluster).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'The admin secret is used only by the Data API on behalf of the task functions; rotating it needs a rotation Lambda inside the isolated VPC with a Secrets Manager endpoint, a cost kept out of an idle stack. Rotate by redeploying with a new secret.',
    });

    const migrations = new TaskFunction(this, 'Migrations', {
      entry: 'functions/migrate.ts',
      description: 'Applies the result store migrations on deploy',
      timeout: Duration.minutes(10),
      removalPolicy: stage.removalPolicy,
      // The switch is part of the function's configuration, so turning it on or off changes the
      // function's version and the trigger runs it again on that deploy.
      environment: { ...this.environment(), STAGE: stage.name, CELERY_RESULTS: stage.celeryResults ? 'on' : 'off' },
      // The migrator reads the SQL files next to the bundle at run time.
      copy: [{ from: 'shared/results/migrations', to: 'migrations' }],
    });
    this.grantDataApiAccess(migrations);
    this.migrations = migrations;
    new Trigger(this, 'Migrate', {
      handler: migrations,
      executeAfter: [this.cluster],
      executeOnHandlerChange: true,
      timeout: Duration.minutes(10),
    });
  }

  /** What a function needs in its environment to reach the store through the Data API. */
  environment(): Record<string, string> {
    return {
      DB_CLUSTER_ARN: this.cluster.clusterArn,
      DB_SECRET_ARN: this.cluster.secret!.secretArn,
      DB_NAME: databaseName,
    };
  }

  /** Data API access to this cluster and its secret only. */
  grantDataApiAccess(grantee: IGrantable) {
    return this.cluster.grantDataApiAccess(grantee);
  }
}
