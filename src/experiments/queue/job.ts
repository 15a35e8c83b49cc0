/**
 * What a queue job carries (a run's hash, its resolved config and a label) and how a worker checks it before it runs
 * anything: the config is validated by the same schemas as a local run and must hash to the job's id, and no file
 * path is taken from it. A data or cache folder in the config is replaced by the worker's own, a user's data file is
 * read by its name from the worker's --data-dir, and fine-tuning weights are read and written by file name inside the
 * worker's checkpoint folder.
 */
import { basename, join } from 'node:path';
import { UserError } from '../../core/util/errors.js';
import { configHash, resolveRunConfig, type ResolvedRunConfig } from '../config.js';
import { resolveTaskParams } from '../task.js';

export interface QueueJobData { hash: string; config: ResolvedRunConfig; label: string }

/** The worker's own folders: where its checkpoints (and fine-tuning weights) go, and where its data is. */
export interface WorkerFolders { checkpointDir: string; dataDir?: string; cacheDir?: string; threads?: number }

/** Task parameters that name files or folders (replaced by the worker's own). */
const FOLDER_PARAMS = ['dataDir', 'cacheDir'] as const;
const WEIGHT_PARAMS = ['weightsIn', 'weightsOut'] as const;

/** Checks a job and returns the config to run, with every path the worker's own. Throws a one-line UserError. */
export function checkJob(data: unknown, folders: WorkerFolders): { hash: string; label: string; config: ResolvedRunConfig } {
  if (data === null || typeof data !== 'object') throw new UserError('invalid job: its data is not an object');
  const d = data as Partial<QueueJobData>;
  if (typeof d.hash !== 'string' || !/^[0-9a-f]{16}$/.test(d.hash)) throw new UserError(`invalid job: hash must be 16 hex digits, got ${JSON.stringify(d.hash)}`);
  // A resolved optimizer writes `betas: null` for "constant β"; the config schema takes it as absent.
  const raw = d.config !== null && typeof d.config === 'object' && d.config.optimizer !== null && typeof d.config.optimizer === 'object'
    ? { ...d.config, optimizer: Object.fromEntries(Object.entries(d.config.optimizer).filter(([, v]) => v !== null)) }
    : d.config;
  const config = resolveRunConfig(raw, resolveTaskParams, 'config');
  const hash = configHash(config);
  if (hash !== d.hash) throw new UserError(`invalid job ${d.hash}: its config hashes to ${hash} (the job was not made by this version of momentum-lab, or was altered)`);
  const params: Record<string, unknown> = { ...config.params };
  for (const k of FOLDER_PARAMS) delete params[k];
  // Only a task whose schema takes the folder gets it (the train task does; the others read the cache folder).
  const takes = (key: string, value: string): boolean => {
    try { resolveTaskParams(config.task, { ...params, [key]: value }); return true; } catch { return false; }
  };
  if (folders.dataDir !== undefined && takes('dataDir', folders.dataDir)) params.dataDir = folders.dataDir;
  if (folders.cacheDir !== undefined && takes('cacheDir', folders.cacheDir)) params.cacheDir = folders.cacheDir;
  // A user's data file is looked up by its name in the worker's --data-dir.
  const dataFile = params.data;
  if (dataFile !== undefined) {
    const file = typeof dataFile === 'string' ? dataFile : (dataFile as { file?: unknown }).file;
    if (typeof file !== 'string') throw new UserError('invalid job: params.data names no file');
    if (folders.dataDir === undefined) throw new UserError(`run ${hash} reads the data file ${basename(file)}: start the worker with --data-dir DIR holding that file`);
    const local = join(folders.dataDir, basename(file));
    params.data = typeof dataFile === 'string' ? local : { ...(dataFile as object), file: local };
  }
  for (const k of WEIGHT_PARAMS) {
    const v = params[k];
    if (typeof v === 'string') params[k] = join(folders.checkpointDir, 'weights', basename(v));
  }
  if (folders.threads !== undefined && typeof params.threads === 'number') params.threads = folders.threads;
  return { hash, label: typeof d.label === 'string' ? d.label.slice(0, 200) : hash, config: { ...config, params } };
}
