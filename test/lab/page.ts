/**
 * Drives the built lab (dist/lab) in Debian's headless Chromium, served by the real `momentum-lab lab` command
 * on a free port. Shared by test/lab/lab.test.ts and bench/lab-quadratic.ts (no tests here).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { CHROMIUM_PATH } from '../../src/report/browser.js';
import { serveLab } from '../../src/node/lab-server.js';
import { cliCommand, repoRoot } from '../experiments/helpers.js';

export interface LabPage {
  url: string;
  page: Page;
  consoleErrors: string[];
  /** Every request whose URL is not on the lab's own origin. */
  externalRequests: string[];
  close(): Promise<void>;
}

/** Starts `momentum-lab lab --port 0` and resolves with the URL it prints. */
function startServer(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [...cliCommand(), 'lab', '--port', '0'], { cwd: repoRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => { child.kill(); reject(new Error(`momentum-lab lab printed no URL in 20 s: ${out}`)); }, 20_000);
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
      if (m !== null) { clearTimeout(timer); resolve({ child, url: m[0] }); }
    });
    child.stderr!.on('data', (b: Buffer) => { out += b.toString(); });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`momentum-lab lab exited (${code}): ${out}`)); });
  });
}

/** `isolate: false` serves the same folder in-process without the COOP/COEP headers, as a plain static host would. */
async function plainServer(): Promise<{ child: { kill(): void }; url: string }> {
  const { server, url } = await serveLab({ port: 0, isolate: false });
  return { child: { kill: () => void server.close() }, url };
}

export async function openLab(opts: { isolate?: boolean } = {}): Promise<LabPage> {
  if (!existsSync(join(repoRoot(), 'dist', 'lab', 'index.html'))) throw new Error('dist/lab not built: run npm run build:lab');
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`no Chromium at ${CHROMIUM_PATH}: run ./scripts/setup-debian.sh`);
  const { chromium } = await import('playwright-core');
  const { child, url } = opts.isolate === false ? await plainServer() : await startServer();
  const profile = mkdtempSync(join(tmpdir(), 'ml-lab-chromium-'));
  let ctx: BrowserContext | null = null;
  try {
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH, headless: true, viewport: { width: 1200, height: 1000 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    const page = await ctx.newPage();
    const consoleErrors: string[] = [], externalRequests: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    ctx.on('request', (r) => { if (!r.url().startsWith(url)) externalRequests.push(r.url()); });
    await page.goto(url, { waitUntil: 'load' });
    const c = ctx;
    return {
      url, page, consoleErrors, externalRequests,
      async close() {
        await c.close();
        child.kill();
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await ctx?.close();
    child.kill();
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
}

declare global {
  interface Window {
    momentumLab: {
      ready: Promise<unknown>;
      simulate(r: unknown): Promise<unknown>;
      train(r: unknown): Promise<unknown>;
    };
  }
}
