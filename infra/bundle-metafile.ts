import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { Metafile } from 'esbuild';

/**
 * esbuild's account of a function bundle (what went in, which chunk imports which), kept in
 * the cloud assembly beside the assets and never in one: Lambda gets only what it runs.
 */
export const metafileFolder = 'bundle-metafiles';

/** The bundle's entry file in its asset. */
export const entryFile = 'index.mjs';

/** A metafile is named by the hash of the entry file it describes: the asset's own hash is known only after bundling. */
function metafilePath(assemblyDir: string, entry: string): string {
  return join(assemblyDir, metafileFolder, `${createHash('sha256').update(readFileSync(entry)).digest('hex')}.json`);
}

/** Keeps a bundle's metafile in its assembly, its output paths made relative to the asset folder (esbuild names them from its working directory, and CDK renames the folder). */
export function writeMetafile(assemblyDir: string, outputDir: string, metafile: Metafile, workingDir: string): void {
  const inAsset = (path: string) => relative(outputDir, resolve(workingDir, path));
  const outputs = Object.fromEntries(Object.entries(metafile.outputs).map(([path, output]) => [
    inAsset(path),
    { ...output, imports: output.imports.map((item) => (item.external ? item : { ...item, path: inAsset(item.path) })) },
  ]));
  const path = metafilePath(assemblyDir, join(outputDir, entryFile));
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify({ inputs: metafile.inputs, outputs }));
}

/** The metafile of the bundle in `assetDir`, a folder of a cloud assembly. */
export function readMetafile(assetDir: string): Metafile {
  const path = metafilePath(dirname(assetDir), join(assetDir, entryFile));
  if (!existsSync(path)) throw new Error(`${assetDir} has no metafile (${path}): bundle it with bundleFunction (infra/constructs/bundling.ts)`);
  return JSON.parse(readFileSync(path, 'utf8')) as Metafile;
}

/** The files Node reads at init: the entry and every chunk it imports statically, transitively (esbuild's analyzeMetafile lists inputs per output, not this closure). */
export function initOutputs(metafile: Metafile): string[] {
  if (!metafile.outputs[entryFile]) throw new Error(`the metafile has no ${entryFile}`);
  const loaded = new Set<string>();
  const visit = (path: string) => {
    if (loaded.has(path)) return;
    loaded.add(path);
    for (const item of metafile.outputs[path]?.imports ?? []) if (item.kind === 'import-statement' && !item.external) visit(item.path);
  };
  visit(entryFile);
  return [...loaded];
}

/** The npm packages whose code is in `outputs` (every output file when not given). */
export function bundledPackages(metafile: Metafile, outputs: readonly string[] = Object.keys(metafile.outputs)): Set<string> {
  const packages = new Set<string>();
  for (const output of outputs) {
    for (const input of Object.keys(metafile.outputs[output]?.inputs ?? {})) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
      if (match) packages.add(match[1]!);
    }
  }
  return packages;
}

/** An asset's sizes in bytes: what Node reads at init, all its code (the chunks loaded on first use too), and the whole folder as deployed. */
export interface AssetSizes {
  readonly initBytes: number;
  readonly codeBytes: number;
  readonly assetBytes: number;
}

export function assetSizes(assetDir: string, metafile: Metafile = readMetafile(assetDir)): AssetSizes {
  const files = readdirSync(assetDir, { recursive: true, withFileTypes: true }).filter((file) => file.isFile());
  const size = (path: string) => statSync(path).size;
  const sum = (paths: readonly string[]) => paths.reduce((total, path) => total + size(path), 0);
  return {
    initBytes: sum(initOutputs(metafile).map((output) => join(assetDir, output))),
    codeBytes: sum(files.filter((file) => /\.m?js$/.test(file.name)).map((file) => join(file.parentPath, file.name))),
    assetBytes: sum(files.map((file) => join(file.parentPath, file.name))),
  };
}
