import { dirname, join, resolve } from 'node:path';
import { statSync } from 'node:fs';
import { UserError } from '../../core/util/errors.js';
import { mapIoError } from '../../node/io-errors.js';
import { checkOutputFolder } from '../../node/output-paths.js';
import { checkReportInBrowser, chromiumAvailable, CHROMIUM_PATH, writeReport } from '../../report/index.js';
import type { Command } from '../command.js';

export const reportCommand: Command = {
  path: ['report'],
  summary: 'write a self-contained HTML report (plus SVG charts and Markdown/CSV tables) from a results store',
  usage: 'momentum-lab report DIR|DB [--out DIR] [--metric TAG] [--select-metric TAG] [--png]',
  positionals: 1,
  flags: {
    out: { kind: 'string', help: 'output folder (default: report/ next to the store)' },
    metric: { kind: 'string', help: 'metric for the lr/batch/SVAG plots, e.g. test/accuracy (default: test/accuracy if logged)' },
    'select-metric': { kind: 'string', help: 'metric that picks the best lr per setting (default: valid/loss if logged)' },
    title: { kind: 'string', help: 'report title' },
    png: { kind: 'boolean', help: `also write PNG files of the charts (needs ${CHROMIUM_PATH})` },
  },
  async run(flags, positionals) {
    if (positionals.length !== 1) throw new UserError('report takes one results store (.db) or a folder of them');
    const src = positionals[0]!;
    let isDir = false;
    try { isDir = statSync(src).isDirectory(); } catch { /* writeReport names the missing path */ }
    const out = typeof flags.out === 'string' ? flags.out : join(isDir ? src : dirname(src), 'report');
    checkOutputFolder(out, '--out');
    const r = await writeReport(src, {
      outDir: out,
      ...(typeof flags.metric === 'string' ? { metric: flags.metric } : {}),
      ...(typeof flags['select-metric'] === 'string' ? { selectMetric: flags['select-metric'] } : {}),
      ...(typeof flags.title === 'string' ? { title: flags.title } : {}),
    }).catch((e: unknown) => { throw mapIoError(e, { file: out, what: 'report folder', remedy: 'give another --out folder' }); });
    process.stdout.write(`report: ${r.html} (${r.runs} runs, ${r.charts.length} charts)\n`);
    if (r.omitted.length > 0) process.stdout.write(`not drawn: ${r.omitted.join('; ')}\n`);
    if (flags.png === true) {
      if (!chromiumAvailable()) throw new UserError(`--png needs Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set MOMENTUM_LAB_CHROMIUM)`);
      const c = await checkReportInBrowser(r.html, { pngDir: join(resolve(out), 'charts') });
      process.stdout.write(`png: ${c.pngs.length} files in ${join(resolve(out), 'charts')}\n`);
    }
  },
};
