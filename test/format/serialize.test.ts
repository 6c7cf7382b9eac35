import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadPipeline, serializePipeline, type PipelineDoc } from '../../src/engine/format/index';
import { FAKE_REGISTRY } from './fake-registry';

const DIR = path.join(__dirname, '..', 'fixtures', 'pipelines');
const opts = { registry: FAKE_REGISTRY, checkFiles: false } as const;
const load = (t: string): PipelineDoc => {
  const r = loadPipeline(t, opts);
  assert.ok(r.doc, JSON.stringify(r.problems));
  return r.doc;
};
const save = (d: PipelineDoc): string => serializePipeline(d, { registry: FAKE_REGISTRY });

describe('format/serialize', () => {
  it('the canonical fixtures are byte-for-byte what save writes', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.dpipe'));
    assert.ok(files.length >= 2);
    for (const f of files) {
      const text = readFileSync(path.join(DIR, f), 'utf8');
      assert.equal(save(load(text)), text, f);
    }
  });

  it('load → save → load is the identity', () => {
    for (const f of readdirSync(DIR).filter((x) => x.endsWith('.dpipe'))) {
      const doc = load(readFileSync(path.join(DIR, f), 'utf8'));
      assert.deepEqual(load(save(doc)), doc, f);
    }
  });

  const MESSY =
    '{"edges":[{"to":"k.model","from":"m.model"}],"nodes":[{"params":{"zeta":1,"sigma_min":0.01,"steps":20,"alpha":true},' +
    '"position":{"y":-0.4,"x":12.5},"type":"schedule.karras","id":"k"},{"type":"model.onnx","id":"m","params":{"prediction":"sample","path":"a.onnx"}}],' +
    '"metadata":{"zz":[1,2],"description":"d","title":"t","author":"me"},"dpipe":1,"$schema":"./schema/dpipe.schema.json"}';

  it('writes fixed key order, registry param order (unknown sorted after), rounded positions, 2-space indent', () => {
    const expected = `{
  "$schema": "./schema/dpipe.schema.json",
  "dpipe": 1,
  "metadata": {
    "title": "t",
    "description": "d",
    "author": "me",
    "zz": [1, 2]
  },
  "nodes": [
    {
      "id": "k",
      "type": "schedule.karras",
      "params": { "steps": 20, "sigma_min": 0.01, "alpha": true, "zeta": 1 },
      "position": { "x": 13, "y": 0 }
    },
    {
      "id": "m",
      "type": "model.onnx",
      "params": { "path": "a.onnx", "prediction": "sample" }
    }
  ],
  "edges": [
    { "from": "m.model", "to": "k.model" }
  ]
}
`;
    const r = loadPipeline(MESSY, opts);
    assert.deepEqual(r.problems.map((p) => p.code), ['E_PARAM', 'E_PARAM', 'W_UNUSED'], 'unknown params are reported but kept');
    assert.ok(r.doc);
    assert.equal(save(r.doc), expected);
  });

  it('save(load(save(x))) === save(x)', () => {
    const once = save(loadPipeline(MESSY, opts).doc as PipelineDoc);
    assert.equal(save(loadPipeline(once, opts).doc as PipelineDoc), once);
  });

  it('breaks params over lines when one line would pass 100 columns; long number lists filled into lines of at most 100 columns', () => {
    const sigmas = Array.from({ length: 30 }, (_, i) => Number((14.6 / (i + 1)).toFixed(3)));
    const doc: PipelineDoc = {
      dpipe: 1,
      metadata: {},
      nodes: [
        { id: 'short', type: 'schedule.explicit', params: { sigmas: [3, 1, 0] } },
        { id: 'long', type: 'schedule.explicit', params: { sigmas } },
      ],
      edges: [],
    };
    const text = save(doc);
    assert.ok(text.includes('"params": { "sigmas": [3, 1, 0] }\n'));
    assert.ok(text.includes(`"params": {\n        "sigmas": [\n          14.6, 7.3, 4.867, 3.65, 2.92, 2.433, 2.086, 1.825, 1.622, 1.46, 1.327, 1.217, 1.123,\n`));
    assert.ok(text.split('\n').every((l) => l.length <= 100), 'no line over 100 columns');
    assert.deepEqual(load(text), doc);
  });

  it('empty document: metadata {}, nodes [], edges [], trailing newline', () => {
    assert.equal(save({ dpipe: 1, metadata: {}, nodes: [], edges: [] }), '{\n  "dpipe": 1,\n  "metadata": {},\n  "nodes": [],\n  "edges": []\n}\n');
  });

  it('strings are JSON-escaped and non-ASCII kept; -0 is written 0', () => {
    const text = save({ dpipe: 1, metadata: { title: 'σ "quoted"\n' }, nodes: [{ id: 'a', type: 'latent.scale', params: { factor: -0 }, position: { x: -0.2, y: 0 } }], edges: [] });
    assert.ok(text.includes('"title": "σ \\"quoted\\"\\n"'));
    assert.ok(text.includes('"params": { "factor": 0 },\n      "position": { "x": 0, "y": 0 }'));
  });
});
