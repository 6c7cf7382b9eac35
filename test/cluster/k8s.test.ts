/**
 * The Kubernetes recipe (examples/cluster): the Indexed Job and the merge Job validate against the batch/v1 Job
 * schema (kubernetes-models' ajv-compiled validators, run by validate-k8s.mjs), the index reaches `--shard`, the
 * grid command the pods run plans on this checkout, and the Dockerfile builds from files that exist.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { ROOT, dpipeIn } from '../grid/helpers';

const DIR = path.join(ROOT, 'examples', 'cluster');
const JOB = path.join(DIR, 'k8s-grid-job.yaml');
const MERGE = path.join(DIR, 'k8s-grid-merge.yaml');

interface Checked {
  file: string;
  index: number;
  kind: string | null;
  errors: string[];
}

function validate(...files: string[]): Checked[] {
  const r = spawnSync(process.execPath, [path.join(__dirname, 'validate-k8s.mjs'), ...files], { cwd: ROOT, encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Checked[];
}

/** The shell words of the pod's `sh -c` line (the manifest uses plain words and double quotes only). */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]);
}

describe('cluster: the Kubernetes Indexed Job and its image', () => {
  it('both manifests are valid batch/v1 Jobs; the validator rejects a broken one', () => {
    const ok = validate(JOB, MERGE);
    assert.deepEqual(ok.map((c) => [path.basename(c.file), c.kind, c.errors]), [['k8s-grid-job.yaml', 'Job', []], ['k8s-grid-merge.yaml', 'Job', []]]);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-k8s-'));
    try {
      const bad = fs.readFileSync(JOB, 'utf8').replace('completionMode: Indexed', 'completionMode: Indexd').replace('completions: 4', 'completions: four').replace('- name: dpipe\n', '- nam: dpipe\n');
      fs.writeFileSync(path.join(tmp, 'bad.yaml'), bad);
      const [c] = validate(path.join(tmp, 'bad.yaml'));
      const all = c.errors.join('\n');
      assert.match(all, /completionMode must be equal to one of the allowed values/);
      assert.match(all, /completions must be integer/);
      assert.match(all, /containers\/0 must have required property name/);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('pod k runs shard k of completions (JOB_COMPLETION_INDEX → --shard), into the volume the merge Job reads', async () => {
    const job = parse(fs.readFileSync(JOB, 'utf8'));
    const spec = job.spec;
    assert.equal(spec.completionMode, 'Indexed');
    assert.equal(spec.parallelism, spec.completions);
    const c = spec.template.spec.containers[0];
    assert.equal(spec.template.spec.restartPolicy, 'Never');
    const shards = c.env.find((e: { name: string }) => e.name === 'SHARDS').value;
    assert.equal(Number(shards), spec.completions, 'SHARDS must equal completions');
    assert.deepEqual(c.command, ['sh', '-c']);
    const argv = words(c.args[0]);
    assert.deepEqual(argv.slice(0, 3), ['exec', 'dpipe', 'grid']);
    const shardAt = argv.indexOf('--shard');
    assert.equal(argv[shardAt + 1], '$JOB_COMPLETION_INDEX/$SHARDS');
    const out = argv[argv.indexOf('--out') + 1];
    const mount = c.volumeMounts[0];
    assert.ok(out.startsWith(mount.mountPath + '/'), `--out ${out} is on the shared volume ${mount.mountPath}`);
    const merge = parse(fs.readFileSync(MERGE, 'utf8')).spec.template.spec;
    assert.deepEqual([...merge.containers[0].command, ...merge.containers[0].args], ['dpipe', 'merge', out]);
    assert.equal(merge.volumes[0].persistentVolumeClaim.claimName, job.spec.template.spec.volumes[0].persistentVolumeClaim.claimName);

    // The grid the pods run, as pod 1 would run it (the image's /opt/dpipe is this checkout): its cells plan and validate.
    const args = argv.slice(2).map((w) => w.replace('/opt/dpipe/', `${ROOT}/`).replace('$JOB_COMPLETION_INDEX/$SHARDS', `1/${shards}`));
    const r = await dpipeIn([...args, '--dry-run']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^9 cells, 2 in shard 1\/4; nothing was run$/m);
    assert.match(r.out, /^ {3}5 {2}solver=unipc, sched\.steps=10 {2}\[this shard\]$/m);
  });

  it('the Dockerfile starts from node:20, copies only files that exist, installs onnxruntime-node and puts dpipe on PATH', () => {
    const text = fs.readFileSync(path.join(DIR, 'Dockerfile'), 'utf8');
    const from = [...text.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    assert.ok(from.length >= 1 && from.every((f) => /^node:20[-.]/.test(f)), `base images: ${from.join(', ')}`);
    for (const m of text.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const src of m[1].split(/\s+/)) assert.ok(fs.existsSync(path.join(ROOT, src)), `COPY ${src}: no such file in the repository`);
    }
    assert.match(text, /npm ci --omit=dev/);
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
    assert.ok(lock.packages['node_modules/onnxruntime-node'] && !lock.packages['node_modules/onnxruntime-node'].dev, 'onnxruntime-node is a runtime dependency');
    assert.match(text, /ln -s \/opt\/dpipe\/dist\/cli\.js \/usr\/local\/bin\/dpipe/);
    const ignore = fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n');
    assert.ok(ignore.includes('node_modules') && ignore.includes('dist'), 'the build context leaves node_modules and dist out');
  });
});
