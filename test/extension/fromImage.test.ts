import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadPipeline } from '../../src/engine/format';
import { runPipeline } from '../../src/engine/run';
import { pipelineFromImage } from '../../extension/fromImage';
import { analyzeText, runnable } from '../../extension/pipelineText';
import { makeWorkspace } from './runnerFixture';

describe('host: Open Pipeline from Image', function () {
  this.timeout(30_000);
  let ws: ReturnType<typeof makeWorkspace>;
  let png: string;
  before(async () => {
    ws = makeWorkspace({ steps: 3 });
    const outDir = path.join(ws.dir, 'dpipe-out', 'run1');
    const r = await runPipeline(loadPipeline(ws.text, { file: ws.file }).doc!, { baseDir: ws.dir, file: ws.file, outDir, seed: 11, trajectory: { record: false } });
    png = r.outputs.find((o) => o.kind === 'png')!.path!;
  });
  after(() => ws.cleanup());

  it('puts the pipeline beside the .dpipe that ran, with paths that resolve there, and the run\'s seed', () => {
    const found = pipelineFromImage(fs.readFileSync(png), png)!;
    assert.equal(path.dirname(found.file), ws.dir);
    assert.equal(path.basename(found.file), `${path.basename(png, '.png')}.dpipe`);
    const a = analyzeText(found.text, found.file);
    assert.equal(runnable(a), true, JSON.stringify(a.problems));
    assert.equal(a.doc!.nodes.find((n) => n.id === 'model')!.params.path, 'gmm.onnx');
    assert.equal(a.doc!.nodes.find((n) => n.id === 'sched')!.params.steps, 3);
    assert.equal(a.doc!.nodes.find((n) => n.id === 'noise')!.params.seed, 11, 'the image carries the pipeline as it ran (seed override applied)');
  });

  it('picks a free name, and says when a PNG carries no pipeline', () => {
    const stem = path.basename(png, '.png');
    fs.writeFileSync(path.join(ws.dir, `${stem}.dpipe`), '{}');
    const found = pipelineFromImage(fs.readFileSync(png), png, (f) => f.endsWith(`${stem}-2.dpipe`))!;
    assert.equal(path.basename(found.file), `${stem}-3.dpipe`);
    const plain = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108000000003a7e9b550000000a4944415478da63000100000500010d0a2db40000000049454e44ae426082', 'hex');
    assert.equal(pipelineFromImage(plain, path.join(ws.dir, 'x.png')), undefined);
  });
});
