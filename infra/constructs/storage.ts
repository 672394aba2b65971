import { Duration, RemovalPolicy, SecretValue, Stack, type CfnElement } from 'aws-cdk-lib';
import { payloadObjectDays, payloadPrefix } from '../../shared/results/payloads.ts';
import { secretPlaceholder } from '../../shared/secrets.ts';
import { PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Validations } from 'aws-cdk-lib';
import { S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY } from 'aws-cdk-lib/cx-api';
import { Construct, type IConstruct } from 'constructs';

/** Key prefixes of the files bucket; objects under `tmp/` expire, under `task-results/` with their rows, and under `task-payloads/` once no dead letter can need them. */
export const filePrefixes = { uploads: 'uploads/', exports: 'exports/', temporary: 'tmp/', taskResults: 'task-results/', taskPayloads: payloadPrefix } as const;

/** Uploads, exports and temporary files: private, encrypted, HTTPS only, access-logged. */
export class FileStorage extends Construct {
  readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: { removalPolicy: RemovalPolicy; temporaryObjectDays: number; taskResultDays: number }) {
    super(scope, id);
    // CDK's flag for S3 log delivery by bucket policy instead of the legacy LogDeliveryWrite ACL, so ACLs
    // stay disabled on both buckets; context is set before any child is added.
    this.node.setContext(S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
    const autoDelete = props.removalPolicy === RemovalPolicy.DESTROY;
    const accessLogs = new Bucket(this, 'AccessLogs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: autoDelete,
    });
    Validations.of(accessLogs).acknowledge({ id: 'AwsSolutions-S1', reason: 'This bucket receives the files bucket access logs; logging it too would log the logs.' });
    this.bucket = new Bucket(this, 'Files', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'files/',
      lifecycleRules: [
        { id: 'expire-temporary-files', prefix: filePrefixes.temporary, expiration: Duration.days(props.temporaryObjectDays) },
        // A day past the rows' own clean-up, so no row outlives its overflow.
        { id: 'expire-task-result-overflow', prefix: filePrefixes.taskResults, expiration: Duration.days(props.taskResultDays + 1) },
        // Payloads sent by reference are deleted when their task ends well; a failed task's stays for its redrive, then goes.
        { id: 'expire-task-payloads', prefix: filePrefixes.taskPayloads, expiration: Duration.days(payloadObjectDays) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: autoDelete,
    });
  }

  /** Read, write and delete objects, and list keys: the named actions only, on this bucket only. */
  grantFileAccess(grantee: IGrantable & IConstruct): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'], resources: [this.bucket.arnForObjects('*')] }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }));
    const policy = grantee.node.tryFindChild('ServiceRole')?.node.tryFindChild('DefaultPolicy') ?? grantee;
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnElement)}.Arn>/*]`,
      reason: 'Object keys carry user and upload ids that exist only at run time; the grant is limited to objects of this one bucket.',
    });
  }

  /** Write and read the results too large for a row (the consumers), under their prefix only. */
  grantResultOverflow(grantee: IGrantable & IConstruct): void {
    this.#grantOnResults(grantee, ['s3:GetObject', 's3:PutObject']);
  }

  /**
   * The payloads too large for their message (the claim-check pattern), under their prefix
   * only: a producer puts them, a consumer reads, puts (follow-ups) and deletes them.
   */
  grantPayloads(grantee: IGrantable & IConstruct, access: 'producer' | 'consumer'): void {
    const actions = access === 'producer' ? ['s3:PutObject'] : ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'];
    grantee.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions, resources: [this.bucket.arnForObjects(`${filePrefixes.taskPayloads}*`)] }));
    const policy = grantee.node.tryFindChild('ServiceRole')?.node.tryFindChild('DefaultPolicy') ?? grantee;
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnElement)}.Arn>/${filePrefixes.taskPayloads}*]`,
      reason: 'Keys are task ids and digests, known only at run time; the grant is limited to the task-payloads prefix of this one bucket.',
    });
  }

  /** Read the results too large for a row (a service calling `AsyncResult.get()`). */
  grantResultOverflowRead(grantee: IGrantable & IConstruct): void {
    this.#grantOnResults(grantee, ['s3:GetObject']);
  }

  /** Read the results too large for a row, and delete those of the rows a bulk purge deletes (the operators). */
  grantResultOverflowPurge(grantee: IGrantable & IConstruct): void {
    this.#grantOnResults(grantee, ['s3:GetObject', 's3:DeleteObject']);
  }

  #grantOnResults(grantee: IGrantable & IConstruct, actions: string[]): void {
    grantee.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions, resources: [this.bucket.arnForObjects(`${filePrefixes.taskResults}*`)] }));
    const policy = grantee.node.tryFindChild('ServiceRole')?.node.tryFindChild('DefaultPolicy') ?? grantee;
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnElement)}.Arn>/${filePrefixes.taskResults}*]`,
      reason: 'Keys are task ids, known only at run time; the grant is limited to the task-results prefix of this one bucket.',
    });
  }
}

/** The third-party keys, set after deploy (`aws secretsmanager put-secret-value`); code reads them at run time. */
export class ApiSecrets extends Construct {
  readonly stripeApiKey: Secret;
  readonly stripeWebhookSecret: Secret;
  readonly openAiApiKey: Secret;

  constructor(scope: Construct, id: string, props: { stage: string; removalPolicy: RemovalPolicy }) {
    super(scope, id);
    const secret = (secretId: string, name: string, description: string) => {
      const created = new Secret(this, secretId, {
        secretName: `${props.stage}/datacleanup/${name}`,
        description,
        // Not a secret: the marker readSecret() reports as "not configured" until the real key is put in.
        secretStringValue: SecretValue.unsafePlainText(secretPlaceholder),
        removalPolicy: props.removalPolicy,
      });
      Validations.of(created).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason: `A third-party credential: it is rolled in the provider's dashboard (${name.startsWith('stripe') ? 'Stripe' : 'OpenAI'}) and pasted in, which no rotation Lambda can do.`,
      });
      return created;
    };
    this.stripeApiKey = secret('StripeApiKey', 'stripe-api-key', 'Stripe secret API key (sk_live_… / sk_test_…)');
    this.stripeWebhookSecret = secret('StripeWebhookSecret', 'stripe-webhook-secret', 'Signing secret of the Stripe webhook endpoint (whsec_…)');
    this.openAiApiKey = secret('OpenAiApiKey', 'openai-api-key', 'OpenAI API key (sk-…)');
  }
}
