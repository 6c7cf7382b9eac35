import { strict as assert } from 'node:assert';
import { validateToHost, validateToWebview, validateFromRunner, validateToRunner, parse, ProtocolError, check } from '../../src/protocol';

const png = 'data:image/png;base64,iVBORw0KGgo=';

describe('protocol validators', () => {
  it('accept every well-formed webview→host message', () => {
    const ok: unknown[] = [
      { type: 'ready' },
      { type: 'applyOps', ops: [{ op: 'setParam', node: 'a', param: 'steps', value: 10 }, { op: 'connect', from: 'a.x', to: 'b.y' }], label: 'edit', id: 'w1' },
      { type: 'request', id: 'w2', method: 'pickFile', params: { extensions: ['onnx'] } },
      { type: 'request', id: 'w3', method: 'pickSeed', params: {} },
      { type: 'request', id: 'w4', method: 'validate', params: {} },
      { type: 'command', command: 'run', seed: 3 },
      { type: 'openFile', path: 'out/a.png' },
      { type: 'previewAck', runId: 'r', seq: 2 },
      { type: 'log', level: 'info', message: 'x' },
    ];
    for (const m of ok) assert.equal(validateToHost(m, 'm'), undefined, JSON.stringify(m));
  });

  it('name the offending field and the allowed values', () => {
    assert.equal(validateToHost({ type: 'bogus' }, 'msg'), 'msg.type: unknown message type "bogus"; allowed: ready, applyOps, request, command, openFile, previewAck, log');
    assert.equal(validateToHost({ type: 'command', command: 'format' }, 'msg'),
      'msg.command: expected one of "run", "runWithSeed", "runAndCompare", "stop", "validate", "revealOutputs", "openAsText", "openInspector", got "format"');
    assert.equal(validateToHost({ type: 'applyOps', ops: [{ op: 'removeNodes', ids: ['a'] }, { op: 'setParam', node: 'a', name: 'steps' }] }, 'msg'),
      'msg.ops[1]: setParam: unknown field name; allowed: node, param, value');
    assert.match(validateToHost({ type: 'applyOps', ops: [{ op: 'format' }] }, 'msg')!, /^msg\.ops\[0\]: unknown op "format"; ops: addNode, /);
    assert.equal(validateToHost({ type: 'request', id: 'a', method: 'pickFile', params: { extensions: 'onnx' } }, 'msg'),
      'msg.params.extensions: expected an array, got string');
    assert.equal(validateToHost({ type: 'request', id: 'a', method: 'rm -rf', params: {} }, 'msg')?.startsWith('msg.method: expected one of "pickFile"'), true);
    assert.equal(validateToHost(null, 'msg'), 'msg: expected a message object, got null');
    assert.equal(validateToHost({ type: 'previewAck', runId: 'r', seq: 1.5 }, 'msg'), 'msg.seq: expected an integer, got number');
  });

  it('check host→webview messages, including nested problems and responses', () => {
    const init = {
      type: 'init', fileName: 'a.dpipe', text: '{}', version: 1, doc: {}, trusted: false, untrustedReason: 'untrusted',
      problems: [{ code: 'E_JSON', message: 'bad', severity: 'error', line: 1, column: 2, offset: 1, length: 1 }],
      registry: [{ type: 'solver.euler', category: 'Solver', title: 'Euler', doc: 'd', inputs: [], outputs: [], params: [] }],
      settings: { previewRate: 4 },
    };
    assert.equal(validateToWebview(init, 'm'), undefined);
    assert.equal(validateToWebview({ ...init, problems: [{ code: 'E_JSON', message: 'bad', severity: 'fatal' }] }, 'm'),
      'm.problems[0].severity: expected one of "error", "warning", got "fatal"');
    assert.equal(validateToWebview({ ...init, doc: [] }, 'm'), 'm.doc: expected the document object or null');
    assert.equal(validateToWebview({ type: 'response', id: 'x', ok: false }, 'm'), 'm.error: expected a string, got undefined');
    assert.equal(validateToWebview({ type: 'response', id: 'x', ok: true, result: { path: null } }, 'm'), undefined);
    assert.equal(validateToWebview({ type: 'preview', runId: 'r', seq: 1, nodeId: 's', index: 0, step: 0, sigma: 80, width: 28, height: 28, image: 'javascript:alert(1)' }, 'm'),
      'm.image: expected a data:image/png;base64 URI');
    assert.equal(validateToWebview({ type: 'runState', phase: 'running', sigma: Number.NaN }, 'm'), 'm.sigma: expected a finite number, got number');
  });

  it('check runner messages both ways', () => {
    const run = { type: 'run', runId: 'r1', text: '{}', file: '/a.dpipe', outDir: '/o', threads: 0, previewIntervalMs: 250, trajectoryMemoryMB: 0 };
    assert.equal(validateToRunner(run, 'm'), undefined);
    const { threads: _t, ...noThreads } = run;
    assert.equal(validateToRunner(noThreads, 'm'), 'm.threads: expected an integer, got undefined');
    assert.equal(validateFromRunner({ type: 'preview', runId: 'r1', seq: 0, nodeId: 's', index: 3, step: 1, sigma: 2.5, width: 56, height: 28, image: png }, 'm'), undefined);
    assert.equal(validateFromRunner({ type: 'runFinished', runId: 'r1', ok: true, stopped: false, outputs: [{ nodeId: 'o', kind: 'gif', path: '/x' }], nfe: 1, ms: 1, outDir: '/o' }, 'm'),
      'm.outputs[0].kind: expected one of "png", "npy", "json", got "gif"');
  });

  it('parse throws a ProtocolError; check returns the error', () => {
    assert.throws(() => parse(validateToRunner, { type: 'stop' }), (e: unknown) => e instanceof ProtocolError && e.message === 'message.runId: expected a string, got undefined');
    assert.deepEqual(check(validateToRunner, { type: 'shutdown' }), { ok: true, value: { type: 'shutdown' } });
  });
});
