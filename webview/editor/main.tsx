/**
 * Entry of the graph-editor webview (bundled to dist/webview/editor.js, CSS to dist/webview/editor.css).
 * Mounts the App on #root with a client over VS Code's webview API.
 */
import '@xyflow/react/dist/style.css';
import '@vscode/codicons/dist/codicon.css';
import './editor.css';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { CrashBoundary } from './CrashBoundary';
import { HostClient, acquireHostPort } from '../shared/host';

const rootEl = document.getElementById('root') ?? document.body.appendChild(document.createElement('div'));
const client = new HostClient(acquireHostPort());
window.addEventListener('error', (e) => client.log('error', `webview error: ${e.message} (${e.filename}:${e.lineno})`));
window.addEventListener('unhandledrejection', (e) => client.log('error', `webview unhandled rejection: ${String(e.reason)}`));
createRoot(rootEl).render(
  <CrashBoundary client={client}>
    <App client={client} />
  </CrashBoundary>,
);
