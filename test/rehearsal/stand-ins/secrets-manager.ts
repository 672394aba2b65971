import { randomBytes, randomUUID } from 'node:crypto';
import type { Template } from '../assembly.ts';
import { resolve, type LocalValues } from '../environment.ts';

interface StoredSecret {
  readonly name: string;
  readonly arn: string;
  value: string;
  versionId: string;
  readonly createdDate: number;
}

export interface ServiceAnswer {
  readonly status: number;
  readonly body: unknown;
}

/**
 * Secrets Manager's JSON protocol (`X-Amz-Target: secretsmanager.<Operation>`) for the
 * template's secrets: GetSecretValue, DescribeSecret, PutSecretValue, errors as the
 * service names them. https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html
 */
export class SecretsManagerStandIn {
  readonly #secrets: StoredSecret[] = [];

  /** Every `AWS::SecretsManager::Secret`, holding its `SecretString` or a value made from `GenerateSecretString`. */
  static fromTemplate(template: Template, values: LocalValues): SecretsManagerStandIn {
    const standIn = new SecretsManagerStandIn();
    const attachments = Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::SecretsManager::SecretTargetAttachment');
    for (const [id, resource] of Object.entries(template.Resources)) {
      if (resource.Type !== 'AWS::SecretsManager::Secret') continue;
      const properties = resource.Properties ?? {};
      const arn = values.ref(id);
      const attached = attachments.some((attachment) => (attachment.Properties?.SecretId as { Ref?: string } | undefined)?.Ref === id);
      standIn.add(arn.replace(/^.*:secret:/, '').replace(/-[A-Za-z0-9]{6}$/, ''), arn, initialValue(properties, values, attached));
    }
    return standIn;
  }

  add(name: string, arn: string, value: string): void {
    this.#secrets.push({ name, arn, value, versionId: randomUUID(), createdDate: Math.floor(Date.now() / 1000) });
  }

  /**
   * A secret by name, full ARN or partial ARN (without the 6-character suffix), as the
   * service accepts `SecretId`. https://docs.aws.amazon.com/secretsmanager/latest/userguide/troubleshoot.html#ARN_secretnamehyphen
   */
  find(secretId: string): StoredSecret | undefined {
    return this.#secrets.find((secret) => secret.name === secretId || secret.arn === secretId || secret.arn.replace(/-[A-Za-z0-9]{6}$/, '') === secretId);
  }

  handle(operation: string, input: { SecretId?: string; SecretString?: string }): ServiceAnswer {
    const secret = input.SecretId ? this.find(input.SecretId) : undefined;
    const notFound = { status: 400, body: { __type: 'ResourceNotFoundException', Message: "Secrets Manager can't find the specified secret." } };
    switch (operation) {
      case 'GetSecretValue':
        if (!secret) return notFound;
        return { status: 200, body: { ARN: secret.arn, Name: secret.name, VersionId: secret.versionId, SecretString: secret.value, VersionStages: ['AWSCURRENT'], CreatedDate: secret.createdDate } };
      case 'DescribeSecret':
        if (!secret) return notFound;
        return { status: 200, body: { ARN: secret.arn, Name: secret.name, CreatedDate: secret.createdDate, VersionIdsToStages: { [secret.versionId]: ['AWSCURRENT'] } } };
      case 'PutSecretValue':
        if (!secret) return notFound;
        if (typeof input.SecretString !== 'string') return { status: 400, body: { __type: 'InvalidParameterException', Message: 'You must provide either SecretString or SecretBinary.' } };
        secret.value = input.SecretString;
        secret.versionId = randomUUID();
        return { status: 200, body: { ARN: secret.arn, Name: secret.name, VersionId: secret.versionId, VersionStages: ['AWSCURRENT'] } };
      default:
        return { status: 400, body: { __type: 'UnknownOperationException', Message: `the stand-in does not serve ${operation}` } };
    }
  }
}

/** A template secret's first value: its SecretString, or GenerateSecretString's template with a generated key (the cluster's, with the attachment's fields). */
function initialValue(properties: Record<string, unknown>, values: LocalValues, attachedToCluster: boolean): string {
  if (properties.SecretString !== undefined) return String(resolve(properties.SecretString, values));
  const generate = properties.GenerateSecretString as { SecretStringTemplate?: string; GenerateStringKey?: string; PasswordLength?: number } | undefined;
  const password = randomBytes(24).toString('base64url').slice(0, generate?.PasswordLength ?? 32);
  if (!generate?.SecretStringTemplate || !generate.GenerateStringKey) return password;
  const secret: Record<string, unknown> = { ...(JSON.parse(generate.SecretStringTemplate) as Record<string, unknown>), [generate.GenerateStringKey]: password };
  return JSON.stringify(attachedToCluster ? { ...secret, engine: 'postgres', host: '127.0.0.1', port: 5432 } : secret);
}
