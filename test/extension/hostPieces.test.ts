import { strict as assert } from 'node:assert';
import * as os from 'node:os';
import * as path from 'node:path';
import { PreviewGate } from '../../extension/previewGate';
import { DEFAULT_SETTINGS, previewIntervalMs, readSettings, resolveOutputFolder, runFolderName } from '../../extension/settings';
import { contentSecurityPolicy, editorShellHtml, fallbackHtml, makeNonce } from '../../extension/webviewHtml';
import { abbreviate, logMessage } from '../../extension/log';

describe('host: preview gate', () => {
  const p = (seq: number) => ({ runId: 'r', seq });
  it('sends one at a time, keeps only the newest waiting, and counts the dropped', () => {
    const sent: number[] = [];
    const g = new PreviewGate<{ runId: string; seq: number }>((x) => sent.push(x.seq), 10_000);
    g.offer(p(1));
    g.offer(p(2));
    g.offer(p(3));
    g.offer(p(4));
    assert.deepEqual(sent, [1]);
    assert.equal(g.dropped, 2);
    g.ack('r', 99); // not the one in flight
    assert.deepEqual(sent, [1]);
    g.ack('r', 1);
    assert.deepEqual(sent, [1, 4]);
    g.ack('r', 4);
    g.offer(p(5));
    assert.deepEqual(sent, [1, 4, 5]);
    g.dispose();
  });
  it('frees the slot when the webview never acks', async () => {
    const sent: number[] = [];
    const g = new PreviewGate<{ runId: string; seq: number }>((x) => sent.push(x.seq), 30);
    g.offer(p(1));
    g.offer(p(2));
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(sent, [1, 2]);
    g.dispose();
  });
});

describe('host: settings', () => {
  it('reads and clamps settings, falling back to the documented defaults', () => {
    const vals: Record<string, unknown> = {
      'runner.threads': 3.6, previewRate: 100, trajectoryMemoryMB: -5, outputFolder: '  ',
      executionProvider: 'quantum', executionProviderFallback: 'yes', 'runner.releaseModelsAfterSeconds': 1e9,
    };
    assert.deepEqual(readSettings((k) => vals[k]), {
      threads: 4, outputFolder: DEFAULT_SETTINGS.outputFolder, previewRate: 30, trajectoryMemoryMB: 0,
      executionProvider: 'cpu', executionProviderFallback: false, releaseModelsAfterSeconds: 86_400,
    });
    assert.equal(readSettings((k) => ({ executionProvider: 'cuda', executionProviderFallback: true } as Record<string, unknown>)[k]).executionProvider, 'cuda');
    assert.deepEqual(readSettings(() => undefined), DEFAULT_SETTINGS);
  });
  it('expands output-folder variables like VS Code', () => {
    const file = path.join(path.sep, 'w', 'proj', 'pipes', 'euler.dpipe');
    assert.equal(resolveOutputFolder('${fileDirname}/dpipe-out', file, undefined), path.join(path.sep, 'w', 'proj', 'pipes', 'dpipe-out'));
    assert.equal(resolveOutputFolder('${workspaceFolder}/runs/${fileBasenameNoExtension}', file, path.join(path.sep, 'w', 'proj')), path.join(path.sep, 'w', 'proj', 'runs', 'euler'));
    assert.equal(resolveOutputFolder('out', file, undefined), path.join(path.sep, 'w', 'proj', 'pipes', 'out'));
    assert.equal(resolveOutputFolder('${userHome}/x', file, undefined), path.join(os.homedir(), 'x'));
  });
  it('names run folders by local time, sortably', () => {
    assert.equal(runFolderName(new Date(2025, 0, 2, 3, 4, 5, 67)), '20250102-030405-067');
    assert.equal(previewIntervalMs(4), 250);
    assert.equal(previewIntervalMs(0), 0);
  });
});

describe('host: webview HTML', () => {
  it('has a strict CSP: default-src none, scripts only by nonce, no eval', () => {
    const csp = contentSecurityPolicy('vscode-resource:', 'abc');
    assert.match(csp, /^default-src 'none'; /);
    assert.match(csp, /script-src 'nonce-abc'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-eval/);
    assert.doesNotMatch(csp, /script-src[^;]*unsafe-inline/);
    const html = editorShellHtml({ cspSource: 'https://x', scriptUri: 'https://x/editor.js', styleUris: ['https://x/editor.css'], title: 'a<b>.dpipe', nonce: 'N1' });
    assert.ok(html.includes('<script nonce="N1" src="https://x/editor.js"></script>'));
    assert.ok(html.includes('<title>a&lt;b&gt;.dpipe</title>'));
    assert.equal((html.match(/<script/g) ?? []).length, 1);
    assert.ok(html.includes(`content="${contentSecurityPolicy('https://x', 'N1').replace(/'/g, "'")}"`));
  });
  it('nonces are random 128-bit values', () => {
    const a = makeNonce();
    assert.equal(Buffer.from(a, 'base64').length, 16);
    assert.notEqual(a, makeNonce());
  });
  it('the fallback page explains and offers "Open as text" through the protocol', () => {
    const html = fallbackHtml({ cspSource: 'x', title: 't', message: 'It broke & why', nonce: 'N' });
    assert.ok(html.includes('It broke &amp; why'));
    assert.ok(html.includes(`{ type: 'command', command: 'openAsText' }`));
    assert.ok(html.includes('<script nonce="N">'));
  });
});

describe('host: log', () => {
  it('logs every message, chatty ones at trace, with long strings shortened', () => {
    const lines: string[] = [];
    const log = { trace: (m: string) => lines.push(`T ${m}`), debug() {}, info: (m: string) => lines.push(`I ${m}`), warn() {}, error() {} };
    logMessage(log, '→ webview', { type: 'documentChanged', text: 'x'.repeat(100) });
    logMessage(log, '→ webview', { type: 'preview', image: 'data:' });
    assert.deepEqual(lines, [`I → webview documentChanged {"type":"documentChanged","text":"${'x'.repeat(80)}…(100 chars)"}`, 'T → webview preview {"type":"preview","image":"data:"}']);
    assert.equal(abbreviate({ registry: [1, 2, 3] }), '{"registry":"[3 blocks]"}');
  });
});
