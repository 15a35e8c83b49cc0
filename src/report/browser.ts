/**
 * Headless Chromium (Debian's `chromium`, driven by playwright-core with an explicit executablePath, a fresh profile
 * and background networking off): checks a rendered report (console errors, drawn marks per chart, no network
 * requests) and screenshots each chart to PNG.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const CHROMIUM_PATH = process.env.MOMENTUM_LAB_CHROMIUM ?? '/usr/bin/chromium';

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

export interface PageCheck {
  consoleErrors: string[];
  /** Requests for anything but the report file itself (a self-contained report makes none). */
  externalRequests: string[];
  /** Drawn marks (path/line/rect/circle inside Vega mark groups) per chart id. */
  marks: Record<string, number>;
  /** PNG files written (when pngDir is given). */
  pngs: string[];
}

export async function checkReportInBrowser(htmlPath: string, opts: { pngDir?: string } = {}): Promise<PageCheck> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'ml-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    const page = await ctx.newPage();
    const consoleErrors: string[] = [];
    const externalRequests: string[] = [];
    const url = pathToFileURL(htmlPath).href;
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    page.on('request', (r) => { if (r.url() !== url) externalRequests.push(r.url()); });
    await page.goto(url, { waitUntil: 'load' });
    const marks = await page.evaluate(() => {
      const out: Record<string, number> = {};
      for (const fig of Array.from(document.querySelectorAll('figure.chart'))) {
        const sel = '[class^="mark-"] path, [class^="mark-"] line, [class^="mark-"] rect, [class^="mark-"] circle';
        const drawn = Array.from(fig.querySelectorAll(sel)).filter((el) => {
          const g = el.closest('[class^="mark-"]');
          // Skip frames/backgrounds of group marks and legend/axis groups: only data marks count.
          return g !== null && !/mark-group|role-axis|role-legend|role-title/.test(g.getAttribute('class') ?? '') && el.closest('.role-legend, .role-axis, .role-title') === null;
        });
        out[fig.getAttribute('data-chart') ?? '?'] = drawn.length;
      }
      return out;
    });
    const pngs: string[] = [];
    if (opts.pngDir !== undefined) {
      for (const name of Object.keys(marks)) {
        const p = join(opts.pngDir, `${name}.png`);
        await page.locator(`figure[data-chart="${name}"] svg`).first().screenshot({ path: p });
        pngs.push(p);
      }
    }
    return { consoleErrors, externalRequests, marks, pngs };
  } finally {
    await ctx.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
