/**
 * Downloads of canonical dataset files: HTTP(S) into `<cacheDir>/<name>/`, through `<file>.part`, resumed with a
 * Range request when a partial file is there (or restarted cleanly when the server ignores Range), verified by
 * SHA-256, fsynced, then renamed into place. A file under its final name has always been verified; a download that
 * fails the checksum is deleted.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { basename, dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { UserError } from '../../core/util/errors.js';
import { findCifarDir } from '../../core/data/cifar.js';
import { datasetNames, datasetSource, isDatasetName, type RemoteFile } from '../../core/data/registry.js';
import { defaultCacheDir } from './load.js';
import { didYouMean } from '../../core/util/suggest.js';

export type FetchStatus = 'present' | 'downloaded' | 'resumed';

export interface DownloadOptions {
  log?: (line: string) => void;
  /** Socket inactivity timeout (default 60 s). */
  timeoutMs?: number;
}

/** SHA-256 (hex) of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some file systems refuse to fsync a directory; the rename itself is still atomic.
  }
}

function request(url: string, headers: Record<string, string>, timeoutMs: number): Promise<IncomingMessage> {
  return new Promise((resolvePromise, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      reject(new UserError(`invalid URL '${url}'`, '--url'));
      return;
    }
    const get = u.protocol === 'https:' ? httpsGet : u.protocol === 'http:' ? httpGet : null;
    if (get === null) {
      reject(new UserError(`unsupported URL scheme in '${url}' (use http or https)`, '--url'));
      return;
    }
    const req = get(u, { headers }, resolvePromise);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no data for ${timeoutMs / 1000} s`)));
    req.on('error', (e: NodeJS.ErrnoException) => reject(new UserError(`cannot download ${url}: ${e.code ?? e.message}; check the network, or pass --url BASE pointing at a mirror`)));
  });
}

function discard(res: IncomingMessage): void {
  res.on('error', () => {});
  res.resume();
}

/**
 * Appends the body to `fd`, at most `limit` bytes: a body that would pass it is cut off there (`overflow`), so a
 * wrong or hostile server cannot fill the disk.
 */
function drain(res: IncomingMessage, fd: number, limit: number, progress?: (bytes: number) => void): Promise<{ bytes: number; complete: boolean; overflow: boolean }> {
  return new Promise((resolvePromise) => {
    let bytes = 0;
    let last = Date.now();
    let done = false;
    const finish = (complete: boolean, overflow = false): void => {
      if (done) return;
      done = true;
      resolvePromise({ bytes, complete, overflow });
    };
    res.on('data', (chunk: Buffer) => {
      if (done) return;
      if (bytes + chunk.length > limit) {
        finish(false, true);
        res.destroy();
        return;
      }
      writeSync(fd, chunk);
      bytes += chunk.length;
      if (progress !== undefined && Date.now() - last > 2000) {
        last = Date.now();
        progress(bytes);
      }
    });
    res.on('end', () => finish(res.complete));
    res.on('error', () => finish(false));
    res.on('aborted', () => finish(false));
    res.on('close', () => finish(res.complete));
  });
}

/**
 * Makes `dest` a verified copy of `url` (SHA-256 `sha256`, `size` bytes if known). Returns what was done.
 * On a broken connection the `.part` file is kept and the error says to run again (which resumes).
 */
export async function downloadVerified(url: string, dest: string, sha256: string, size: number | undefined, opts: DownloadOptions = {}): Promise<FetchStatus> {
  const log = opts.log ?? (() => {});
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const name = basename(dest);
  mkdirSync(dirname(dest), { recursive: true });
  if (existsSync(dest)) {
    const got = await sha256File(dest);
    if (got === sha256) return 'present';
    log(`${dest}: checksum ${got.slice(0, 12)}… does not match; deleting it and downloading again`);
    unlinkSync(dest);
  }
  const part = `${dest}.part`;
  let offset = existsSync(part) ? statSync(part).size : 0;
  if (size !== undefined && offset > size) {
    log(`${part}: larger than the expected ${size} bytes; discarding it`);
    unlinkSync(part);
    offset = 0;
  }
  let resumed = false;
  if (size === undefined || offset < size) {
    let current = url;
    for (let hop = 0; ; hop++) {
      const res = await request(current, offset > 0 ? { Range: `bytes=${offset}-` } : {}, timeoutMs);
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location !== undefined && hop < 5) {
        discard(res);
        current = new URL(res.headers.location, current).toString();
        continue;
      }
      if (status === 416 && offset > 0) {
        // The server cannot serve the rest: start again from zero.
        discard(res);
        log(`${name}: server refused to resume (HTTP 416); restarting`);
        unlinkSync(part);
        offset = 0;
        continue;
      }
      let append = false;
      if (status === 206 && offset > 0) {
        const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
        if (m !== null && Number(m[1]) === offset) append = true;
        else {
          discard(res);
          log(`${name}: server answered the range request with a different range; restarting`);
          unlinkSync(part);
          offset = 0;
          continue;
        }
      } else if (status !== 200) {
        discard(res);
        throw new UserError(`cannot download ${current}: HTTP ${status}; check --url or try again later`);
      } else if (offset > 0) {
        log(`${name}: server ignored the range request; downloading from the start`);
      }
      const expected = res.headers['content-length'] !== undefined ? Number(res.headers['content-length']) : undefined;
      const start = append ? offset : 0;
      const total = size ?? (expected !== undefined ? start + expected : undefined);
      const tooLarge = (sent: string): UserError => new UserError(
        `download of ${current} is larger than the expected ${size} bytes (the server ${sent}); the partial file was deleted`,
      );
      if (size !== undefined && expected !== undefined && start + expected > size) {
        discard(res);
        if (existsSync(part)) unlinkSync(part);
        throw tooLarge(`announced ${start + expected} bytes`);
      }
      const fd = openSync(part, append ? 'a' : 'w');
      let result: { bytes: number; complete: boolean; overflow: boolean };
      try {
        const mb = (b: number): string => (b / 1e6).toFixed(1);
        result = await drain(res, fd, size === undefined ? Infinity : size - start, (b) => log(`${name}: ${mb(start + b)}${total !== undefined ? ` of ${mb(total)}` : ''} MB`));
        if (!result.overflow) fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      if (result.overflow) {
        unlinkSync(part);
        throw tooLarge(`sent more than ${size} bytes`);
      }
      const have = statSync(part).size;
      if (!result.complete || (expected !== undefined && result.bytes < expected)) {
        throw new UserError(
          `download of ${current} stopped at ${have}${total !== undefined ? ` of ${total}` : ''} bytes; ${part} is kept — run the same command again to resume`,
        );
      }
      resumed = append;
      break;
    }
  }
  const got = await sha256File(part);
  if (got !== sha256) {
    unlinkSync(part);
    throw new UserError(`${name} from ${url}: SHA-256 ${got} does not match the expected ${sha256}; the download was deleted (is --url pointing at the right files?)`);
  }
  const fd = openSync(part, 'r+');
  try {
    fsyncSync(fd);
    if (size !== undefined && fstatSync(fd).size !== size) {
      log(`${name}: verified by SHA-256 but ${fstatSync(fd).size} bytes, not the listed ${size}`);
    }
  } finally {
    closeSync(fd);
  }
  renameSync(part, dest);
  fsyncDir(dirname(dest));
  return resumed ? 'resumed' : 'downloaded';
}

/**
 * Extracts regular files whose base name passes `accept` from a .tar.gz (ustar/GNU headers) into `destDir`,
 * each under its base name only (no path from the archive is trusted), via a temporary name and rename.
 */
export function extractTarGz(file: string, destDir: string, accept: (name: string) => boolean): string[] {
  let tar: Uint8Array;
  try {
    tar = gunzipSync(readFileSync(file));
  } catch (e) {
    throw new UserError(`${file}: cannot gunzip (${(e as Error).message}); delete it and fetch again`);
  }
  const text = (off: number, len: number): string => {
    let end = off;
    while (end < off + len && tar[end] !== 0) end++;
    return Buffer.from(tar.buffer, tar.byteOffset + off, end - off).toString('utf8');
  };
  mkdirSync(destDir, { recursive: true });
  const out: string[] = [];
  let off = 0;
  let longName: string | null = null;
  while (off + 512 <= tar.length) {
    if (tar.subarray(off, off + 512).every((b) => b === 0)) break;
    const size = parseInt(text(off + 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(tar[off + 156]!);
    const prefix = text(off + 345, 155);
    let name = longName ?? (prefix !== '' ? `${prefix}/${text(off, 100)}` : text(off, 100));
    longName = null;
    const dataOff = off + 512;
    if (!Number.isFinite(size) || dataOff + size > tar.length) throw new UserError(`${file}: truncated tar archive at entry '${name}'; delete it and fetch again`);
    if (type === 'L') longName = text(dataOff, size);
    else if ((type === '0' || type === '\0') && accept(basename(name))) {
      name = basename(name);
      const dest = join(destDir, name);
      const tmp = `${dest}.part`;
      const fd = openSync(tmp, 'w');
      try {
        writeSync(fd, tar.subarray(dataOff, dataOff + size));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, dest);
      out.push(dest);
    }
    off = dataOff + Math.ceil(size / 512) * 512;
  }
  fsyncDir(destDir);
  return out;
}

export interface FetchOptions extends DownloadOptions {
  cacheDir?: string;
  /** Replaces the folder part of every file URL: `<baseUrl>/<file name>`. */
  baseUrl?: string;
  /** Replaces the built-in table of files and hashes (tests, mirrors with other packaging). */
  files?: readonly RemoteFile[];
}

export interface FetchResult {
  dir: string;
  files: { name: string; path: string; status: FetchStatus }[];
  /** Files unpacked from an archive (CIFAR-10). */
  extracted: string[];
}

/** `momentum-lab data fetch <name>`: download, verify and (CIFAR-10) unpack into `<cacheDir>/<name>/`. */
export async function fetchDataset(nameIn: string, opts: FetchOptions = {}): Promise<FetchResult> {
  const downloadable = datasetNames({ files: true }).filter((n) => datasetSource(n).remote.length > 0);
  if (!isDatasetName(nameIn) || !downloadable.includes(nameIn)) throw new UserError(`unknown dataset '${nameIn}'${didYouMean(nameIn, downloadable, "'")} (known: ${downloadable.join(', ')})`, 'dataset');
  const info = datasetSource(nameIn);
  const dir = join(opts.cacheDir ?? defaultCacheDir(), nameIn);
  const files = opts.files ?? info.remote;
  const base = opts.baseUrl?.replace(/\/+$/, '');
  const result: FetchResult = { dir, files: [], extracted: [] };
  for (const f of files) {
    const url = base !== undefined ? `${base}/${f.name}` : f.url;
    const path = join(dir, f.name);
    opts.log?.(`${f.name}: ${url}`);
    const status = await downloadVerified(url, path, f.sha256, f.size, opts);
    opts.log?.(`${f.name}: ${status === 'present' ? 'already present, SHA-256 verified' : `${status}, SHA-256 verified`}`);
    result.files.push({ name: f.name, path, status });
  }
  if (nameIn === 'cifar10') {
    const archive = result.files.find((f) => f.name.endsWith('.tar.gz'));
    if (archive !== undefined && (findCifarDir(dir, existsSync, join) === null || archive.status !== 'present')) {
      result.extracted = extractTarGz(archive.path, join(dir, 'cifar-10-batches-bin'), (n) => n.endsWith('.bin') || n.endsWith('.txt'));
      opts.log?.(`extracted ${result.extracted.length} files into ${join(dir, 'cifar-10-batches-bin')}`);
    }
  }
  return result;
}
