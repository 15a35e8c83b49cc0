import { existsSync } from 'node:fs';
import { UserError } from '../../core/util/errors.js';
import { datasetNames, datasetSource, type Located } from '../../core/data/registry.js';
import { decodedCachePath, defaultCacheDir, locateDataset } from '../../node/data/load.js';
import { fetchDataset } from '../../node/data/fetch.js';
import type { Command } from '../command.js';

interface ListRow {
  name: string;
  available: boolean;
  format?: Located['format'];
  source?: string;
  decodedCache?: string | null;
  note: string;
}

/** Availability of every known dataset here (no decoding). */
export function listDatasets(opts: { dataDir?: string; cacheDir?: string }): ListRow[] {
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  return datasetNames({ files: true }).map((name): ListRow => {
    let loc: Located;
    try {
      loc = locateDataset(name, { ...opts, cacheDir });
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      return { name, available: false, note: e.message };
    }
    const cache = decodedCachePath(loc, cacheDir);
    const note =
      loc.format === 'embedded'
        ? `embedded 10,000 test digits split 80/20 per digit; ${datasetSource(name).hint.replace(/, or leave out.*$/, '')}`
        : `${datasetSource(name).shape.join('×')}, ${datasetSource(name).classes} classes`;
    return { name, available: true, format: loc.format, source: loc.source, decodedCache: existsSync(cache) ? cache : null, note };
  });
}

export const dataList: Command = {
  path: ['data', 'list'],
  summary: 'show which datasets are available here, where they were found, and how to get the missing ones',
  usage: 'momentum-lab data list [--data-dir DIR] [--cache-dir DIR] [--json]',
  positionals: 0,
  flags: {
    'data-dir': { kind: 'string', help: 'also look for dataset files only in this folder' },
    'cache-dir': { kind: 'string', help: 'downloads and decoded arrays (default ~/.cache/momentum-lab)' },
    json: { kind: 'boolean', help: 'print JSON instead of a table' },
  },
  run(flags) {
    const rows = listDatasets({
      dataDir: typeof flags['data-dir'] === 'string' ? flags['data-dir'] : undefined,
      cacheDir: typeof flags['cache-dir'] === 'string' ? flags['cache-dir'] : undefined,
    });
    if (flags.json === true) {
      process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
      return;
    }
    for (const r of rows) {
      const status = r.available ? 'available' : 'missing';
      const where = r.available ? `${r.source}${r.decodedCache ? ' [decoded cache ready]' : ''}` : '';
      process.stdout.write(`${r.name.padEnd(14)} ${status.padEnd(10)} ${where}\n${' '.repeat(25)}${r.note}\n`);
    }
  },
};

export const dataFetch: Command = {
  path: ['data', 'fetch'],
  summary: 'download a dataset (fashion-mnist, mnist, cifar10) into the cache folder, verifying SHA-256',
  usage: `momentum-lab data fetch <${datasetNames({ files: true }).join('|')}> [--cache-dir DIR] [--url BASE]`,
  positionals: 1,
  flags: {
    'cache-dir': { kind: 'string', help: 'where to put the files (default ~/.cache/momentum-lab)' },
    url: { kind: 'string', help: 'mirror: download <BASE>/<file name> instead of the canonical URLs' },
  },
  async run(flags, positionals) {
    const names = datasetNames({ files: true }).filter((n) => datasetSource(n).remote.length > 0);
    if (positionals.length !== 1) throw new UserError(`data fetch needs exactly one dataset name (${names.join(', ')})`);
    const r = await fetchDataset(positionals[0]!, {
      cacheDir: typeof flags['cache-dir'] === 'string' ? flags['cache-dir'] : undefined,
      baseUrl: typeof flags.url === 'string' ? flags.url : undefined,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    process.stdout.write(`${positionals[0]}: ${r.files.length} file(s) verified in ${r.dir}\n`);
  },
};
