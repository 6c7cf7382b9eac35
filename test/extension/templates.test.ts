import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { instantiateTemplate, listTemplates } from '../../extension/templates';
import { analyzeText, runnable } from '../../extension/pipelineText';

const ROOT = path.resolve(__dirname, '..', '..');
const EXAMPLES = path.join(ROOT, 'examples');

describe('host: New Pipeline templates', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-tpl-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('lists the examples by title, after "Empty pipeline"', () => {
    const t = listTemplates(EXAMPLES);
    assert.equal(t[0].label, 'Empty pipeline');
    const euler = t.find((x) => x.description === 'euler-karras.dpipe');
    assert.equal(euler?.label, 'Euler, Karras schedule, 20 steps');
    const presets = fs.readdirSync(path.join(EXAMPLES, 'presets')).filter((f) => f.endsWith('.dpipe'));
    assert.ok(presets.length > 0);
    assert.equal(t.length, 1 + fs.readdirSync(EXAMPLES).filter((f) => f.endsWith('.dpipe')).length + presets.length);
    // The reference presets come after the examples, named by their subfolder.
    assert.deepEqual(t.slice(-presets.length).map((x) => x.description), presets.sort().map((f) => `presets/${f}`));
  });

  it('a preset template copies the demo model too and runs where it is created', () => {
    const preset = fs.readdirSync(path.join(EXAMPLES, 'presets')).filter((f) => f.endsWith('.dpipe')).sort()[0];
    const target = path.join(dir, 'p.dpipe');
    const inst = instantiateTemplate(path.join(EXAMPLES, 'presets', preset), target, ROOT);
    for (const c of inst.copies) {
      fs.mkdirSync(path.dirname(c.to), { recursive: true });
      fs.copyFileSync(c.from, c.to);
    }
    assert.ok(inst.copies.some((c) => c.to === path.join(dir, 'models', 'mnist_gmm.onnx')), JSON.stringify(inst.copies));
    fs.writeFileSync(target, inst.text);
    const a = analyzeText(inst.text, target);
    assert.equal(runnable(a), true, JSON.stringify(a.problems));
  });

  it('copies the demo model next to the new pipeline, so it runs there', () => {
    const target = path.join(dir, 'sub', 'mine.dpipe');
    const inst = instantiateTemplate(path.join(EXAMPLES, 'euler-karras.dpipe'), target, ROOT);
    assert.deepEqual(inst.copies.map((c) => path.relative(dir, c.to)).sort(), [path.join('sub', 'models', 'mnist_gmm.onnx'), path.join('sub', 'models', 'mnist_gmm.onnx.json')]);
    assert.match(inst.text, /"path": "models\/mnist_gmm\.onnx"/);
    for (const c of inst.copies) {
      fs.mkdirSync(path.dirname(c.to), { recursive: true });
      fs.copyFileSync(c.from, c.to);
    }
    fs.writeFileSync(target, inst.text);
    const a = analyzeText(inst.text, target);
    assert.equal(runnable(a), true, JSON.stringify(a.problems));
    // A second pipeline in the same folder reuses the copied model.
    assert.deepEqual(instantiateTemplate(path.join(EXAMPLES, 'heun.dpipe'), path.join(dir, 'sub', 'b.dpipe'), ROOT).copies, []);
  });

  it('the empty pipeline is a valid document named after the file', () => {
    const inst = instantiateTemplate(undefined, path.join(dir, 'blank.dpipe'), ROOT);
    const a = analyzeText(inst.text, path.join(dir, 'blank.dpipe'));
    assert.deepEqual(a.doc?.nodes, []);
    assert.equal(a.doc?.metadata.title, 'blank');
  });
});
