/**
 * The inspector webview in headless Chromium against the REAL host logic: the bundle is built fresh with the
 * product's esbuild settings, served inside the product's HTML shell (same CSP) with an `acquireVsCodeApi` shim
 * whose messages go to an {@link InspectorSession} in this process — the class the VS Code panel uses — and
 * whose answers are posted back into the page. Exports are written to a folder the test reads.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { InspectorSession, type SessionIO } from '../../extension/inspector/session';
import { inspectorShellHtml } from '../../extension/inspector/html';
import { buildWebviewBundle, serveShell, type Served } from '../webview/harness';
import type { TrajectoryReader } from '../../src/engine/inspect/reader';
import type { FromInspector, ToInspector } from '../../src/protocol/inspector';

const NONCE = 'aW5zcGVjdG9yLW5vbmNlLTE=';

export async function buildInspectorBundle(outDir: string): Promise<void> {
  await buildWebviewBundle('webview/inspector/main.tsx', path.join(outDir, 'inspector.js'), false);
}

const SHIM = `
(() => {
  const theme = new URLSearchParams(location.search).get('theme') || 'dark';
  document.body.classList.add(theme === 'light' ? 'vscode-light' : 'vscode-dark');
  let state = null;
  window.acquireVsCodeApi = () => ({
    postMessage: (m) => window.__inspectorHost(JSON.parse(JSON.stringify(m))),
    getState: () => state,
    setState: (s) => { state = s; return s; },
  });
})();
`;

export type { Served };

/** Serves the inspector's shell with the shim (see serveShell in test/webview/harness.ts). */
export function serveInspector(bundleDir: string): Promise<Served> {
  const html = (origin: string, themeCss: string) =>
    inspectorShellHtml({ cspSource: origin, scriptUri: `${origin}/dist/inspector.js`, styleUris: [themeCss, `${origin}/dist/inspector.css`], title: 'Latent Inspector', nonce: NONCE });
  return serveShell(bundleDir, { html, nonce: NONCE, shim: SHIM });
}

export interface HostOptions {
  /** Delay before each frame answer, ms (to make scrubbing outrun the host). */
  readonly frameDelayMs?: number;
  readonly exportDir: string;
}

/** An inspector panel: a page plus the real session behind it; records every message both ways. */
export class PanelHost {
  readonly fromWebview: FromInspector[] = [];
  readonly toWebview: ToInspector[] = [];
  readonly commands: string[] = [];
  /** Grid view requests (open a cell, compare two). */
  readonly gridActions: { action: 'open' | 'compare'; cells: number[] }[] = [];
  readonly errors: string[] = [];
  readonly session: InspectorSession;
  page!: Page;

  constructor(readers: TrajectoryReader[], private readonly o: HostOptions) {
    const io: SessionIO = {
      post: (m) => {
        this.toWebview.push(m);
        const deliver = () => this.page?.evaluate((msg) => window.postMessage(msg, '*'), m as unknown as Record<string, unknown>).catch(() => undefined);
        if (m.type === 'response' && o.frameDelayMs) setTimeout(deliver, o.frameDelayMs);
        else void deliver();
      },
      log: (level, message) => {
        if (level === 'error' || level === 'warn') this.errors.push(`${level}: ${message}`);
      },
      save: async (name, bytes) => {
        fs.mkdirSync(o.exportDir, { recursive: true });
        const file = path.join(o.exportDir, name);
        fs.writeFileSync(file, bytes);
        return file;
      },
      command: (c) => this.commands.push(c),
      gridCells: (action, cells) => this.gridActions.push({ action, cells: [...cells] }),
    };
    this.session = new InspectorSession(readers, io);
  }

  async open(ctx: BrowserContext, url: string, theme: 'dark' | 'light' = 'dark', size = { width: 1400, height: 1000 }): Promise<Page> {
    const page = await ctx.newPage();
    this.page = page;
    await page.setViewportSize(size);
    page.on('pageerror', (e) => this.errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') this.errors.push(`console: ${m.text()}`);
    });
    await page.exposeFunction('__inspectorHost', (m: FromInspector) => {
      this.fromWebview.push(m);
      void this.session.receive(m);
    });
    await page.goto(`${url}/index.html?theme=${theme}`);
    return page;
  }

  frameRequests(): { i: number; run: number; planes: readonly string[] }[] {
    return this.fromWebview.flatMap((m) => (m.type === 'request' && m.method === 'frame' ? [m.params] : []));
  }
}
