/**
 * The HTML shell of the graph-editor webview: a strict Content Security Policy (`default-src 'none'`, scripts only
 * by a per-load nonce from `crypto.randomBytes`, no `unsafe-eval`), the bundled React app (`dist/webview/editor.js`
 * + its CSS) and codicons. No vscode import, so tests (and the webview's browser tests) can build the same page.
 */
import { randomBytes } from 'node:crypto';

export interface ShellOptions {
  /** `webview.cspSource`: the origin webview resources are served from. */
  readonly cspSource: string;
  /** Webview URIs (asWebviewUri) of the app script and stylesheets. */
  readonly scriptUri: string;
  readonly styleUris: readonly string[];
  readonly title: string;
  /** Shown until the app renders (and if it never does). */
  readonly loadingText?: string;
  /** Overrides the random nonce (tests only). */
  readonly nonce?: string;
}

/** 128 random bits, base64: a nonce must be unguessable (never `Math.random`). */
export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    // data: for previews (PNG data URIs); cspSource for bundled icons.
    `img-src ${cspSource} data:`,
    // React Flow and the node components set inline style attributes.
    `style-src ${cspSource} 'unsafe-inline'`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

export function editorShellHtml(o: ShellOptions): string {
  const nonce = o.nonce ?? makeNonce();
  const styles = o.styleUris.map((u) => `<link rel="stylesheet" href="${attr(u)}">`).join('\n  ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${attr(contentSecurityPolicy(o.cspSource, nonce))}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <title>${text(o.title)}</title>
  ${styles}
</head>
<body>
  <div id="root" data-testid="dpipe-root"><p class="dpipe-loading" style="padding:1em;opacity:.7">${text(o.loadingText ?? 'Loading the pipeline editor…')}</p></div>
  <script nonce="${attr(nonce)}" src="${attr(o.scriptUri)}"></script>
</body>
</html>`;
}

export interface FallbackOptions {
  readonly cspSource: string;
  readonly title: string;
  /** What went wrong, in one or two sentences. */
  readonly message: string;
  readonly details?: string;
  readonly nonce?: string;
}

/**
 * A page that needs no bundle: the reason the graph cannot be shown and an "Open as text" button (posts the
 * `command: openAsText` protocol message). Used when the app bundle is missing or never reported `ready`.
 */
export function fallbackHtml(o: FallbackOptions): string {
  const nonce = o.nonce ?? makeNonce();
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${attr(contentSecurityPolicy(o.cspSource, nonce))}">
  <title>${text(o.title)}</title>
  <style>
    body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 2em; }
    button { background: var(--vscode-button-background); color: var(--vscode-button-foreground); border: none; padding: .5em 1em; cursor: pointer; }
    button:hover { background: var(--vscode-button-hoverBackground); }
    pre { white-space: pre-wrap; opacity: .8; }
  </style>
</head>
<body>
  <div data-testid="dpipe-fallback">
    <h2>${text(o.title)}</h2>
    <p data-testid="dpipe-fallback-message">${text(o.message)}</p>
    ${o.details ? `<pre>${text(o.details)}</pre>` : ''}
    <button id="open-as-text" data-testid="open-as-text">Open as text</button>
  </div>
  <script nonce="${attr(nonce)}">
    const vscode = acquireVsCodeApi();
    document.getElementById('open-as-text').addEventListener('click', () => vscode.postMessage({ type: 'command', command: 'openAsText' }));
  </script>
</body>
</html>`;
}

/** Escapes `s` for HTML text content. */
export function text(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escapes `s` for a double-quoted HTML attribute (and text). */
export function attr(s: string): string {
  return text(s).replace(/"/g, '&quot;');
}
