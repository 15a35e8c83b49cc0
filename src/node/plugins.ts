/**
 * Plugins: JavaScript modules a user names with `--plugin FILE` (or MOMENTUM_LAB_PLUGINS, a path-list) that
 * register a model family or a dataset source (`registerModelFamily`, `registerDatasetSource` from the core)
 * before a command runs. The list travels in the environment, so sweep worker threads and the memory probe's child
 * process load the same plugins as the command that started them.
 */
import { existsSync } from 'node:fs';
import { delimiter, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UserError } from '../core/util/errors.js';

const ENV = 'MOMENTUM_LAB_PLUGINS';
const loaded = new Set<string>();

/** Adds plugin files (resolved against the working directory) to this process's list, for it and its children. */
export function addPlugins(files: readonly string[]): void {
  const list = pluginFiles();
  for (const f of files) {
    const abs = resolve(f);
    if (!existsSync(abs)) throw new UserError(`plugin ${f}: no such file (give the path of a .js or .mjs module)`, '--plugin');
    if (!list.includes(abs)) list.push(abs);
  }
  process.env[ENV] = list.join(delimiter);
}

export function pluginFiles(): string[] {
  return (process.env[ENV] ?? '').split(delimiter).filter((f) => f !== '');
}

/** Imports every listed plugin once, in order; a plugin that fails to load is a one-line error naming it. */
export async function loadPlugins(): Promise<void> {
  for (const file of pluginFiles()) {
    if (loaded.has(file)) continue;
    try {
      await import(pathToFileURL(file).href);
    } catch (e) {
      const message = e instanceof Error ? e.message.split('\n')[0] : String(e);
      throw new UserError(`plugin ${file} failed to load: ${message}`, '--plugin');
    }
    loaded.add(file);
  }
}

/** Takes every `--plugin FILE` / `--plugin=FILE` out of a command line (they may stand anywhere in it). */
export function extractPluginFlags(argv: readonly string[]): { plugins: string[]; rest: string[] } {
  const plugins: string[] = [], rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--plugin') {
      const f = argv[i + 1];
      if (f === undefined || f.startsWith('--')) throw new UserError('--plugin needs a file: --plugin ./my-family.mjs');
      plugins.push(f);
      i++;
    } else if (a.startsWith('--plugin=')) {
      plugins.push(a.slice('--plugin='.length));
    } else {
      rest.push(a);
    }
  }
  return { plugins, rest };
}
