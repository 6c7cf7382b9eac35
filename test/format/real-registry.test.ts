import { strict as assert } from 'node:assert';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { hasErrors, loadPipeline, loadPipelineFile, paramsWithDefaults, serializePipeline } from '../../src/engine/format/index';
import { canConnect } from '../../src/engine/graph/index';
import { registryInfo } from '../../src/engine/registry/index';

describe('format on the real registry', () => {
  const info = registryInfo();

  it('has blocks, and a document with every block at its defaults has no param or type problems', () => {
    assert.ok(info.length > 0);
    const doc = {
      dpipe: 1,
      nodes: info.map((t, i) => ({ id: `n${i}`, type: t.type, params: paramsWithDefaults(t, {}) })),
      edges: [],
    };
    const text = JSON.stringify(doc);
    const r = loadPipeline(text, { checkFiles: false });
    const bad = r.problems.filter((p) => ['E_NODE_TYPE', 'E_PARAM', 'E_PARAM_VALUE', 'E_FORMAT', 'E_NODE_ID'].includes(p.code));
    assert.deepEqual(bad, []);
    assert.ok(r.doc);
    // Saving with the real registry keeps its param order; a second round trip is byte-identical.
    const saved = serializePipeline(r.doc);
    assert.equal(serializePipeline(loadPipeline(saved, { checkFiles: false }).doc!), saved);
  });

  it("every required input's port type is produced by some block, and canConnect agrees on matching types", () => {
    const outputs = new Map<string, string>();
    info.forEach((t, i) => t.outputs.forEach((o) => outputs.set(o.type, `n${i}.${o.name}`)));
    const doc = { dpipe: 1, metadata: {}, nodes: info.map((t, i) => ({ id: `n${i}`, type: t.type, params: {} })), edges: [] };
    info.forEach((t, i) => t.inputs.forEach((p) => {
      const src = outputs.get(p.type);
      if (!src && p.optional) return; // e.g. CORRECTOR before any corrector block exists
      assert.ok(src, `no block outputs ${p.type} (needed by ${t.type}.${p.name})`);
      if (src.startsWith(`n${i}.`)) return;
      const r = canConnect(info, doc, src, `n${i}.${p.name}`);
      assert.ok(r.ok || r.code === 'E_COMPOSE', `${src} → n${i}.${p.name}: ${!r.ok ? r.reason : ''}`);
    }));
  });

  it('the examples load with no errors (files checked) and survive load → save → load', () => {
    const dir = path.join(__dirname, '..', '..', 'examples');
    const files = readdirSync(dir).filter((f) => f.endsWith('.dpipe'));
    for (const f of files) {
      const r = loadPipelineFile(path.join(dir, f));
      assert.ok(r.doc && !hasErrors(r.problems), `${f}: ${JSON.stringify(r.problems)}`);
      assert.deepEqual(loadPipeline(serializePipeline(r.doc), { checkFiles: false }).doc, r.doc, f);
    }
  });
});
