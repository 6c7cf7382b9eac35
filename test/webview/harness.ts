/**
 * A stand-in for VS Code around the editor webview, for browser tests: the editor bundle built fresh with the
 * product's esbuild settings, served from a local http server inside the host's real HTML shell (same strict
 * CSP), an `acquireVsCodeApi` shim that forwards every posted message to {@link FakeHost} in this process, and
 * Debian's chromium driven by playwright-core. FakeHost applies graph ops with the engine's own graph module and
 * loader — exactly what the extension host does — so tests assert the document TEXT the host ends up with.
 */
import { build } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { editorShellHtml } from '../../extension/webviewHtml';
import type { Problem } from '../../src/engine/core/errors';
import { loadPipelineText } from '../../src/engine/format/load';
import type { PipelineDoc } from '../../src/engine/format/types';
import { applyGraphOp, applyTextEdits, parseGraphOp, type GraphOp } from '../../src/engine/graph';
import type { NodeTypeInfo } from '../../src/engine/registry/types';
import type { ToHost, ToWebview } from '../../src/protocol/editor';

const ROOT = path.resolve(__dirname, '../..');
export const CHROMIUM = process.env.DPIPE_CHROMIUM ?? '/usr/bin/chromium';

/** Builds a webview entry like scripts/build.mjs does (browser IIFE, CSS beside it) into `outfile`. */
export async function buildWebviewBundle(entry: string, outfile: string, minify: boolean): Promise<void> {
  await build({
    entryPoints: [path.join(ROOT, entry)],
    outfile,
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'chrome120',
    minify,
    sourcemap: false,
    loader: { '.css': 'css', '.ttf': 'file' },
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
}

/** Builds webview/editor/main.tsx into `outDir`, minified as shipped. */
export async function buildEditorBundle(outDir: string): Promise<void> {
  await buildWebviewBundle('webview/editor/main.tsx', path.join(outDir, 'editor.js'), true);
}

const NONCE = 'dGVzdC1ub25jZS0xMjM0NQ==';

/** The shim VS Code's webview API: messages go to the test process through a binding Playwright exposes. */
const SHIM = `
(() => {
  const params = new URLSearchParams(location.search);
  const theme = params.get('theme') || 'dark';
  document.body.classList.add(theme === 'light' ? 'vscode-light' : theme === 'hc' ? 'vscode-high-contrast' : 'vscode-dark');
  document.body.dataset.vscodeThemeKind = 'vscode-' + theme;
  let state = JSON.parse(sessionStorage.getItem('vscodeState') || 'null');
  let acquired = false;
  window.acquireVsCodeApi = () => {
    if (acquired) throw new Error('acquireVsCodeApi may be called only once');
    acquired = true;
    return {
      postMessage: (m) => window.__dpipeHost(JSON.parse(JSON.stringify(m))),
      getState: () => state,
      setState: (s) => { state = s; sessionStorage.setItem('vscodeState', JSON.stringify(s)); return s; },
    };
  };
})();
`;

export interface Served {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

export interface ShellPage {
  /** The product's HTML shell for a page served at `origin` with the theme stylesheet `themeCss`. */
  html(origin: string, themeCss: string): string;
  /** The nonce the shell uses; the `acquireVsCodeApi` shim is injected as a script with it. */
  readonly nonce: string;
  readonly shim: string;
}

/**
 * Serves a webview shell at `/index.html?theme=dark|light` with the shim injected before the app's script, the
 * bundle under `/dist/`, the theme stylesheets under `/themes/`, and `files` under `/files/`.
 */
export async function serveShell(bundleDir: string, page: ShellPage, files: Readonly<Record<string, Buffer>> = {}): Promise<Served> {
  const server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, type: string, body: Buffer | string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (u.pathname === '/' || u.pathname === '/index.html') {
      const origin = `http://${req.headers.host}`;
      const theme = u.searchParams.get('theme') === 'light' ? 'light' : 'dark';
      const html = page.html(origin, `${origin}/themes/${theme}.css`).replace('<script nonce=', `<script nonce="${page.nonce}">${page.shim}</script>\n  <script nonce=`);
      return send(200, 'text/html; charset=utf-8', html);
    }
    const types: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf', '.png': 'image/png' };
    let file: string | undefined;
    if (u.pathname.startsWith('/dist/')) file = path.join(bundleDir, path.basename(u.pathname));
    else if (u.pathname.startsWith('/themes/')) file = path.join(__dirname, 'themes', path.basename(u.pathname));
    else if (u.pathname.startsWith('/files/') && files[path.basename(u.pathname)]) return send(200, types[path.extname(u.pathname)] ?? 'application/octet-stream', files[path.basename(u.pathname)]);
    if (file && existsSync(file)) return send(200, types[path.extname(file)] ?? 'application/octet-stream', readFileSync(file));
    send(404, 'text/plain', 'not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server, close: () => new Promise((r) => server.close(() => r())) };
}

/** Serves the editor's shell (see {@link serveShell}). */
export function serve(bundleDir: string, files: Readonly<Record<string, Buffer>> = {}): Promise<Served> {
  const html = (origin: string, themeCss: string) =>
    editorShellHtml({ cspSource: origin, scriptUri: `${origin}/dist/editor.js`, styleUris: [themeCss, `${origin}/dist/editor.css`], title: 'test.dpipe', nonce: NONCE });
  return serveShell(bundleDir, { html, nonce: NONCE, shim: SHIM }, files);
}

export interface Browser {
  readonly context: BrowserContext;
  readonly blocked: string[];
  close(): Promise<void>;
}

/** Debian's chromium with a fresh profile; every request that is not to 127.0.0.1 is aborted (and recorded). */
export async function launch(): Promise<Browser> {
  const profile = mkdtempSync(path.join(tmpdir(), 'dpipe-webview-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    viewport: { width: 1400, height: 860 },
    deviceScaleFactor: 1,
  });
  const blocked: string[] = [];
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.protocol === 'data:' || u.hostname === '127.0.0.1') return route.continue();
    blocked.push(u.href);
    return route.abort();
  });
  return {
    context,
    blocked,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface FakeHostOptions {
  readonly registry: readonly NodeTypeInfo[];
  readonly text: string;
  readonly fileName?: string;
  readonly trusted?: boolean;
}

/**
 * The extension host's part of the editor protocol, in this process: answers `ready` with `init`, applies
 * `applyOps` with the engine's graph module (refusing the whole list when one op is refused, like one
 * WorkspaceEdit), re-loads the text and posts `documentChanged`. Every message from the webview is recorded.
 */
export class FakeHost {
  text: string;
  version = 1;
  trusted: boolean;
  readonly received: ToHost[] = [];
  /** The text after each applied edit, with the edit's label. */
  readonly history: { label: string; ops: GraphOp[]; text: string }[] = [];
  readonly refused: { ops: unknown[]; reason: string }[] = [];
  /** Answers for `request` messages; default: none (the request times out in the webview). */
  onRequest?: (method: string, params: unknown) => unknown;
  private page?: Page;
  private waiters: { pred: (m: ToHost) => boolean; resolve: (m: ToHost) => void }[] = [];

  constructor(private readonly o: FakeHostOptions) {
    this.text = o.text;
    this.trusted = o.trusted ?? true;
  }

  /** Opens the editor in a new page of `ctx` and waits for the first render of the graph. */
  async open(ctx: BrowserContext, url: string, theme: 'dark' | 'light' = 'dark'): Promise<Page> {
    const page = await ctx.newPage();
    this.page = page;
    page.on('pageerror', (e) => this.errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') this.errors.push(`console: ${m.text()}`);
    });
    await page.exposeFunction('__dpipeHost', (m: ToHost) => this.receive(m));
    await page.goto(`${url}/index.html?theme=${theme}`);
    return page;
  }

  /** Page errors and console errors (CSP violations show up here). */
  readonly errors: string[] = [];

  load(text: string): { doc: PipelineDoc | null; problems: Problem[] } {
    const r = loadPipelineText(text, { registry: this.o.registry });
    return { doc: r.doc ?? null, problems: r.problems };
  }

  async post(m: ToWebview): Promise<void> {
    await this.page!.evaluate((msg) => window.postMessage(msg, '*'), m as unknown as Record<string, unknown>);
  }

  /** Replaces the text as if edited in a text editor. */
  async setText(text: string): Promise<void> {
    this.text = text;
    this.version++;
    await this.post({ type: 'documentChanged', text, version: this.version, ...this.load(text) });
  }

  /** Resolves with the next message (from now on, or already received when `past`) that matches. */
  waitFor(pred: (m: ToHost) => boolean, timeoutMs = 5000, past = false): Promise<ToHost> {
    if (past) {
      const hit = this.received.find(pred);
      if (hit) return Promise.resolve(hit);
    }
    return new Promise((resolve, reject) => {
      const w = { pred, resolve };
      this.waiters.push(w);
      setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) {
          this.waiters.splice(i, 1);
          reject(new Error(`no matching message from the webview within ${timeoutMs} ms; last: ${JSON.stringify(this.received.slice(-3))}`));
        }
      }, timeoutMs);
    });
  }

  /** Waits until the number of applied edits reaches `n`. */
  async waitForEdits(n: number, timeoutMs = 5000): Promise<void> {
    const t0 = Date.now();
    while (this.history.length < n) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`expected ${n} edits, got ${this.history.length}: ${this.history.map((h) => h.label).join(', ')}; refused: ${JSON.stringify(this.refused)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private async receive(m: ToHost): Promise<void> {
    this.received.push(m);
    for (const w of [...this.waiters]) {
      if (w.pred(m)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
    switch (m.type) {
      case 'ready':
        await this.post({
          type: 'init',
          fileName: this.o.fileName ?? 'test.dpipe',
          text: this.text,
          version: this.version,
          ...this.load(this.text),
          registry: this.o.registry,
          trusted: this.trusted,
          untrustedReason: this.trusted ? undefined : 'This folder is not trusted.',
          settings: { previewRate: 10 },
        });
        return;
      case 'applyOps': {
        let text = this.text;
        const parsed: GraphOp[] = [];
        for (const raw of m.ops) {
          const p = parseGraphOp(raw);
          const r = p.ok ? applyGraphOp(text, this.o.registry, p.op) : p;
          if (!r.ok) {
            this.refused.push({ ops: [...m.ops], reason: r.reason });
            if (m.id) await this.post({ type: 'response', id: m.id, ok: false, error: r.reason });
            return;
          }
          parsed.push((p as { op: GraphOp }).op);
          text = applyTextEdits(text, r.edits);
        }
        this.text = text;
        this.version++;
        this.history.push({ label: m.label ?? '', ops: parsed, text });
        await this.post({ type: 'documentChanged', text, version: this.version, ...this.load(text) });
        if (m.id) await this.post({ type: 'response', id: m.id, ok: true });
        return;
      }
      case 'request': {
        const result = this.onRequest?.(m.method, m.params);
        if (result !== undefined) await this.post({ type: 'response', id: m.id, ok: true, result });
        return;
      }
      default:
        return;
    }
  }
}
