/**
 * A worker thread running one of the package's modules, from the compiled .js files or, under tsx (tests,
 * development), from the .ts sources: there tsx must be registered inside the worker before the module loads.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** The Worker running `file` (its .js name, relative to `fromUrl`, a module's import.meta.url). */
export function moduleWorker(fromUrl: string, file: string, options: WorkerOptions = {}): Worker {
  if (!fromUrl.endsWith('.ts')) return new Worker(new URL(file, fromUrl), options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const target = new URL(file.replace(/\.js$/, '.ts'), fromUrl).href;
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(target)}); });`;
  return new Worker(code, { ...options, eval: true });
}
