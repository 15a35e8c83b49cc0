/**
 * The results view: a claims.json (momentum-lab paper) or a report folder's charts/*.vl.json (momentum-lab report)
 * dropped or picked by the user, drawn in the page with `renderSvg`, the function the CLI's report renders with,
 * from the same specs (claims.json through `claimCharts`, shared with the paper report). Vega is loaded only
 * when the first file arrives.
 */
import type { ClaimRows } from '../src/report/claim-charts.js';

interface Figure { name: string; title: string; spec: Record<string, unknown> }

const $ = (id: string): HTMLElement => document.getElementById(id)!;

/** Files of a dropped folder, recursively (DataTransfer entries). */
async function entryFiles(entry: FileSystemEntry): Promise<File[]> {
  if (entry.isFile) return [await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej))];
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const out: File[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
    if (batch.length === 0) return out;
    for (const e of batch) out.push(...(await entryFiles(e)));
  }
}

async function figuresOf(files: File[]): Promise<{ figures: Figure[]; skipped: string[] }> {
  const { claimCharts } = await import('../src/report/claim-charts.js');
  const figures: Figure[] = [], skipped: string[] = [];
  for (const f of files) {
    const name = f.webkitRelativePath || f.name;
    let json: unknown;
    try {
      json = JSON.parse(await f.text());
    } catch {
      skipped.push(`${name} (not JSON)`);
      continue;
    }
    if (f.name === 'claims.json') {
      const claims = (json as { claims?: ClaimRows[] }).claims;
      if (!Array.isArray(claims)) { skipped.push(`${name} (no "claims" list)`); continue; }
      for (const c of claimCharts(claims)) figures.push({ name: c.name, title: c.title, spec: c.spec });
    } else if (f.name.endsWith('.vl.json') && typeof json === 'object' && json !== null) {
      const spec = json as Record<string, unknown>;
      figures.push({ name: f.name.replace(/\.vl\.json$/, ''), title: typeof spec.title === 'string' ? spec.title : f.name, spec });
    } else {
      skipped.push(`${name} (neither claims.json nor a *.vl.json chart)`);
    }
  }
  return { figures, skipped };
}

async function open(files: File[]): Promise<void> {
  const status = $('r-status'), out = $('r-charts');
  status.textContent = `reading ${files.length} file(s)…`;
  const { figures, skipped } = await figuresOf(files.filter((f) => f.name.endsWith('.json')));
  const { renderSvg } = await import('../src/core/theory/chart.js');
  out.replaceChildren();
  for (const f of figures) {
    const fig = document.createElement('figure');
    fig.dataset.chart = f.name;
    fig.innerHTML = await renderSvg(f.spec);
    const cap = document.createElement('figcaption');
    cap.textContent = f.title;
    fig.append(cap);
    out.append(fig);
  }
  status.textContent = figures.length === 0 ? `no charts found: open a claims.json or a report folder with charts/*.vl.json${skipped.length > 0 ? ` (skipped ${skipped.length})` : ''}` : `${figures.length} chart(s)`;
  status.dataset.charts = String(figures.length);
}

export function setupResults(): void {
  const drop = $('drop');
  const report = (e: unknown): void => { $('r-status').textContent = `could not open: ${(e as Error)?.message ?? String(e)}`; };
  for (const id of ['pick-files', 'pick-folder']) {
    const input = $(id) as HTMLInputElement;
    input.addEventListener('change', () => { open([...(input.files ?? [])]).catch(report); });
  }
  // The drop zone is focusable: Enter or Space opens the file picker, so the keyboard reaches it too.
  drop.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); ($('pick-files') as HTMLInputElement).click(); }
  });
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const entries = [...(e.dataTransfer?.items ?? [])].map((i) => i.webkitGetAsEntry()).filter((x): x is FileSystemEntry => x !== null);
    Promise.all(entries.map(entryFiles)).then((fs) => open(fs.flat())).catch(report);
  });
}
