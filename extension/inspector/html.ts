/**
 * The HTML shell of the Latent Inspector webview: the editor's strict Content Security Policy
 * (`default-src 'none'`, scripts only by a per-load nonce, no `unsafe-eval`; uPlot needs no eval) around the
 * bundled app (`dist/webview/inspector.js` + its CSS). No vscode import, so the browser tests serve the same page.
 */
import { attr as esc, contentSecurityPolicy, makeNonce } from '../webviewHtml';

export interface InspectorShellOptions {
  readonly cspSource: string;
  readonly scriptUri: string;
  readonly styleUris: readonly string[];
  readonly title: string;
  readonly nonce?: string;
}

export function inspectorShellHtml(o: InspectorShellOptions): string {
  const nonce = o.nonce ?? makeNonce();
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${esc(contentSecurityPolicy(o.cspSource, nonce))}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <title>${esc(o.title)}</title>
  ${o.styleUris.map((u) => `<link rel="stylesheet" href="${esc(u)}">`).join('\n  ')}
</head>
<body>
  <div id="root" data-testid="inspector-root"><p style="padding:1em;opacity:.7">Loading the Latent Inspector…</p></div>
  <script nonce="${esc(nonce)}" src="${esc(o.scriptUri)}"></script>
</body>
</html>`;
}
