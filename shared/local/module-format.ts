/**
 * Node 24 decides a `.js` module's format (ESM or CommonJS) from its package's `type`, but
 * reads it through a copy of the whole package.json with every field parsed, again for each
 * module: every file of drizzle-orm parses drizzle's 179 KB `exports` map anew, and importing
 * it leaves about 150 MB of garbage that the young generation grows to hold, and that an idle
 * process keeps. Relative `.js` imports inside node_modules are resolved here instead, with
 * each package's `type` read once: the same URL (symbolic links followed, as Node does) and
 * the same format. Anything else, or any doubt, goes to Node's own resolution.
 *
 * Registered by the local cloud's entry before it imports anything else; the hooks apply to
 * modules resolved after that.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const moduleScope = new Map<string, boolean>();

/** Whether the package.json that governs files in `directory` says `"type": "module"`. */
function inModuleScope(directory: string): boolean {
  const known = moduleScope.get(directory);
  if (known !== undefined) return known;
  let module: boolean;
  try {
    module = (JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as { type?: unknown }).type === 'module';
  } catch (error) {
    const parent = dirname(directory);
    module = (error as NodeJS.ErrnoException).code === 'ENOENT' && parent !== directory && !directory.endsWith('/node_modules') && inModuleScope(parent);
  }
  moduleScope.set(directory, module);
  return module;
}

/**
 * Node's answer for a relative `.js` import from a module inside node_modules when its
 * package is ESM (`"type": "module"`) and the file exists; undefined leaves it to Node.
 */
export function resolveInModuleScope(specifier: string, parentURL: string | undefined): { url: string; format: 'module' } | undefined {
  if (!parentURL?.startsWith('file:') || !parentURL.includes('/node_modules/') || !/^\.\.?\//.test(specifier) || !specifier.endsWith('.js')) return undefined;
  try {
    const path = fileURLToPath(new URL(specifier, parentURL));
    if (!inModuleScope(dirname(path)) || !statSync(path, { throwIfNoEntry: false })?.isFile()) return undefined;
    return { url: pathToFileURL(realpathSync(path)).href, format: 'module' };
  } catch {
    // An odd specifier (an encoded slash, say): Node's resolution gives the error it should.
    return undefined;
  }
}

export function registerModuleFormatCache(): void {
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const resolved = resolveInModuleScope(specifier, context.parentURL);
      return resolved ? { ...resolved, shortCircuit: true } : nextResolve(specifier, context);
    },
  });
}
