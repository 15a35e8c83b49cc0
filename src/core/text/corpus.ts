/**
 * Email text for the masked-LM experiment: the body of a raw RFC 822 message (headers dropped, HTML tags and
 * MIME boundaries removed, whitespace collapsed), and a deterministic split of the deduplicated bodies into an
 * unlabelled pre-training part and labelled train / validation / test parts.
 *
 * The split hashes each body (FNV-1a, 32 bits) to u ∈ [0, 1) and cuts at fixed fractions, so a body's part depends
 * on its text alone: not on file order, not on a seed, and two copies of one body (deduplicated first) cannot land
 * in two parts.
 */

/** The corpus's groups, in the package's order, and the labels of the two tasks built on them. */
export const EMAIL_GROUPS = ['easy-ham-1', 'easy-ham-2', 'hard-ham-1', 'spam-1', 'spam-2'] as const;
export type EmailGroup = (typeof EMAIL_GROUPS)[number];

export interface RawEmail { group: EmailGroup; text: string }

/** One deduplicated body with where it came from (the first group that holds it, in package order). */
export interface EmailDoc { body: string; group: EmailGroup; hash: number }

export type TextPart = 'pretrain' | 'train' | 'valid' | 'test';

/** Cut points of u = hash/2³²: [0, 0.35) pre-training, [0.35, 0.7) train pool, [0.7, 0.8) validation pool, [0.8, 1) test. */
export const PART_BOUNDS: readonly (readonly [TextPart, number])[] = [['pretrain', 0.35], ['train', 0.7], ['valid', 0.8], ['test', 1]];

/** FNV-1a over UTF-16 code units, as an unsigned 32-bit integer. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const ENTITIES: Record<string, string> = { nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * The text a reader sees: everything after the first blank line (the header block ends there), with quoted-printable
 * soft breaks joined and escapes decoded, `<style>`/`<script>` blocks and HTML tags dropped, common entities decoded,
 * MIME boundary and part-header lines and base64 blocks dropped, and runs of whitespace collapsed to one space.
 */
export function emailBody(raw: string): string {
  const text = raw.replace(/\r\n/g, '\n');
  const cut = text.indexOf('\n\n');
  let body = cut < 0 ? '' : text.slice(cut + 2);
  body = body.replace(/=\n/g, '')
    // Quoted-printable escapes: ASCII ones decoded (=20, =3D), others (bytes of another charset) become a space.
    .replace(/=([0-9A-F]{2})/g, (_, h: string) => { const c = parseInt(h, 16); return c < 128 ? String.fromCharCode(c) : ' '; })
    .replace(/<(style|script)[^>]*>[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(nbsp|amp|lt|gt|quot|apos);/gi, (_, e: string) => ENTITIES[e.toLowerCase()]!)
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCharCode(Number(d) % 65536));
  // Base64 blocks (attachments, encoded parts) are lines of 60+ characters of its alphabet and no space.
  const lines = body.split('\n').filter((l) => !/^--\S+\s*$/.test(l) && !/^content-(type|transfer-encoding|disposition):/i.test(l.trim()) && !/^[A-Za-z0-9+/=]{60,}\s*$/.test(l));
  return lines.join(' ').replace(/\s+/g, ' ').trim();
}

/** Bodies in package order, empty ones and repeats of an earlier body dropped. */
export function dedupeBodies(emails: readonly RawEmail[]): EmailDoc[] {
  const seen = new Set<string>();
  const docs: EmailDoc[] = [];
  for (const e of emails) {
    const body = emailBody(e.text);
    if (body.length === 0 || seen.has(body)) continue;
    seen.add(body);
    docs.push({ body, group: e.group, hash: fnv1a(body) });
  }
  return docs;
}

export function partOf(hash: number): TextPart {
  const u = hash / 2 ** 32;
  for (const [part, end] of PART_BOUNDS) if (u < end) return part;
  return 'test';
}

export type CorpusParts = Record<TextPart, EmailDoc[]>;

export function splitCorpus(docs: readonly EmailDoc[]): CorpusParts {
  const parts: CorpusParts = { pretrain: [], train: [], valid: [], test: [] };
  for (const d of docs) parts[partOf(d.hash)].push(d);
  return parts;
}

/** A labelled task over the groups: each group maps to a class index, or is left out (absent). */
export interface TextTask { name: string; classes: string[]; classOf: Partial<Record<EmailGroup, number>> }

export const TEXT_TASKS: Record<'spam' | 'ham3', TextTask> = {
  spam: { name: 'spam', classes: ['ham', 'spam'], classOf: { 'easy-ham-1': 0, 'easy-ham-2': 0, 'hard-ham-1': 0, 'spam-1': 1, 'spam-2': 1 } },
  ham3: { name: 'ham3', classes: ['easy ham', 'hard ham', 'spam'], classOf: { 'easy-ham-1': 0, 'easy-ham-2': 0, 'hard-ham-1': 1, 'spam-1': 2, 'spam-2': 2 } },
};

/** The documents of a part with their task labels. */
export function labelled(docs: readonly EmailDoc[], task: TextTask): { texts: string[]; labels: Int32Array } {
  const kept = docs.filter((d) => task.classOf[d.group] !== undefined);
  return { texts: kept.map((d) => d.body), labels: Int32Array.from(kept.map((d) => task.classOf[d.group]!)) };
}
