/**
 * The inspector webview in headless Chromium against the REAL host logic: the bundle is built fresh with the
 * product's esbuild settings, served inside the product's HTML shell (same CSP) with an `acquireVsCodeApi` shim
 * whose messages go to an {@link InspectorSession} in this process — the class the VS Code panel uses — and
 * whose answers are posted back into the page. Exports are written to a folder the test reads.
 */
import { build } from 'esbuild';
import * as fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { InspectorSession, type SessionIO } from '../../extension/inspector/session';
import { inspectorShellHtml } from '../../extension/inspector/html';
import type { TrajectoryReader } from '../../src/engine/inspect/reader';
import type { FromInspector, ToInspector } from '../../src/protocol/inspector';

const ROOT = path.resolve(__dirname, '../..');
const NONCE = 'aW5zcGVjdG9yLW5vbmNlLTE=';

export async function buildInspectorBundle(outDir: string): Promise<void> {
  await build({
    entryPoints: [path.join(ROOT, 'webview/inspector/main.tsx')],
    outfile: path.join(outDir, 'inspector.js'),
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'chrome120',
    minify: false,
    sourcemap: false,
    loader: { '.css': 'css', '.ttf': 'file' },
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
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

export interface Served {
  readonly url: string;
  close(): Promise<void>;
}

export async function serveInspector(bundleDir: string): Promise<Served> {
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, type: string, body: Buffer | string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (u.pathname === '/' || u.pathname === '/index.html') {
      const origin = `http://${req.headers.host}`;
      const theme = u.searchParams.get('theme') === 'light' ? 'light' : 'dark';
      let html = inspectorShellHtml({ cspSource: origin, scriptUri: `${origin}/dist/inspector.js`, styleUris: [`${origin}/themes/${theme}.css`, `${origin}/dist/inspector.css`], title: 'Latent Inspector', nonce: NONCE });
      html = html.replace('<script nonce=', `<script nonce="${NONCE}">${SHIM}</script>\n  <script nonce=`);
      return send(200, 'text/html; charset=utf-8', html);
    }
    const types: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf' };
    let file: string | undefined;
    if (u.pathname.startsWith('/dist/')) file = path.join(bundleDir, path.basename(u.pathname));
    else if (u.pathname.startsWith('/themes/')) file = path.join(ROOT, 'test/webview/themes', path.basename(u.pathname));
    if (file && fs.existsSync(file)) return send(200, types[path.extname(file)] ?? 'application/octet-stream', fs.readFileSync(file));
    send(404, 'text/plain', 'not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
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
