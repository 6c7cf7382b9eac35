/**
 * Entry of the Latent Inspector webview (bundled to dist/webview/inspector.js, CSS to dist/webview/inspector.css).
 */
import '@vscode/codicons/dist/codicon.css';
import 'uplot/dist/uPlot.min.css';
import './inspector.css';
import { createRoot } from 'react-dom/client';
import { acquireHostPort } from '../shared/host';
import { App } from './App';
import { InspectorClient } from './client';

const rootEl = document.getElementById('root') ?? document.body.appendChild(document.createElement('div'));
const client = new InspectorClient(acquireHostPort());
window.addEventListener('error', (e) => client.log('error', `webview error: ${e.message} (${e.filename}:${e.lineno})`));
window.addEventListener('unhandledrejection', (e) => client.log('error', `webview unhandled rejection: ${String(e.reason)}`));
createRoot(rootEl).render(<App client={client} />);
