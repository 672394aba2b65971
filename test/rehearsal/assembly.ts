import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../infra/constructs/bundling.ts';
import { synthesize } from '../infra/synth.ts';

/** A CloudFormation resource as `cdk synth` writes it. */
export interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

export interface Template {
  readonly Resources: Record<string, Resource>;
}

/** One of our Lambda functions: its template entry and the folder its code asset was bundled into. */
export interface FunctionDefinition {
  readonly logicalId: string;
  readonly properties: Record<string, unknown>;
  /** `cdk.out/asset.<hash>`: what `cdk deploy` zips and uploads. */
  readonly assetDir: string;
}

export interface Assembly {
  readonly outdir: string;
  readonly stackName: string;
  readonly template: Template;
  readonly functions: readonly FunctionDefinition[];
}

/**
 * A fresh `cdk synth` of a stage into a temporary folder, bundling on, with the feature
 * flags of cdk.json as the CLI would apply them (they change the policies' shape).
 */
export function synthesizeStage(stage: string): Assembly & { remove(): void } {
  const flags = (JSON.parse(readFileSync(join(projectRoot, 'cdk.json'), 'utf8')) as { context?: Record<string, string> }).context ?? {};
  const { outdir, nagReport } = synthesize({ ...flags, stage }, { bundle: true });
  if (nagReport) throw new Error(`cdk synth of ${stage} failed its cdk-nag checks: ${JSON.stringify(nagReport).slice(0, 2000)}`);
  const [assembly] = readAssemblies(outdir);
  if (!assembly) throw new Error(`no stack template in ${outdir}`);
  return { ...assembly, remove: () => rmSync(outdir, { recursive: true, force: true }) };
}

/** Every stack of a cloud assembly (`cdk.out`), with its functions that have an `index.mjs` bundle. */
export function readAssemblies(outdir: string): Assembly[] {
  return readdirSync(outdir)
    .filter((file) => file.endsWith('.template.json'))
    .map((file) => {
      const stackName = file.replace(/\.template\.json$/, '');
      const template = JSON.parse(readFileSync(join(outdir, file), 'utf8')) as Template;
      const assetPaths = assetFolders(join(outdir, `${stackName}.assets.json`));
      const functions = Object.entries(template.Resources).flatMap(([logicalId, resource]): FunctionDefinition[] => {
        if (resource.Type !== 'AWS::Lambda::Function') return [];
        const properties = resource.Properties ?? {};
        const folder = assetFolder(resource, properties, assetPaths);
        const assetDir = folder && join(outdir, folder);
        // CDK's own provider functions (the trigger, S3 auto-delete) are CommonJS `index.js` of CDK's, not ours.
        return assetDir && existsSync(join(assetDir, 'index.mjs')) ? [{ logicalId, properties, assetDir }] : [];
      });
      return { outdir, stackName, template, functions };
    });
}

/** The asset manifest's folder per object key (`<hash>.zip`), which the template's `Code.S3Key` names. */
function assetFolders(manifestPath: string): Map<string, string> {
  if (!existsSync(manifestPath)) return new Map();
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { files?: Record<string, { source: { path: string }; destinations: Record<string, { objectKey: string }> }> };
  return new Map(Object.values(manifest.files ?? {}).flatMap((file) => Object.values(file.destinations).map((destination) => [destination.objectKey, file.source.path] as const)));
}

function assetFolder(resource: Resource, properties: Record<string, unknown>, assetPaths: Map<string, string>): string | undefined {
  const fromMetadata = resource.Metadata?.['aws:asset:path'];
  if (typeof fromMetadata === 'string') return fromMetadata;
  const key = (properties.Code as { S3Key?: unknown } | undefined)?.S3Key;
  return typeof key === 'string' ? assetPaths.get(key) : undefined;
}

/** The resources of one type, by logical id. */
export function resourcesOfType(template: Template, type: string): [string, Resource][] {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}
