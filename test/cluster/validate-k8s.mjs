// Validates Kubernetes Job manifests against the batch/v1 Job schema: kubernetes-models ships the schemas of the
// Kubernetes OpenAPI spec compiled to validators by ajv (`Job.validate()`). An ES module because the package is
// one (the CommonJS test spawns this). Usage: node validate-k8s.mjs FILE.yaml … → JSON [{file, index, kind, errors}].
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { Job } from 'kubernetes-models/batch/v1';

const out = [];
for (const file of process.argv.slice(2)) {
  parseAllDocuments(readFileSync(file, 'utf8')).forEach((d, index) => {
    if (d.errors.length) {
      out.push({ file, index, kind: null, errors: d.errors.map((e) => e.message) });
      return;
    }
    const doc = d.toJS();
    let errors = [];
    if (doc?.apiVersion !== 'batch/v1' || doc?.kind !== 'Job') errors = [`not a batch/v1 Job (${doc?.apiVersion} ${doc?.kind})`];
    else {
      try {
        new Job(doc).validate();
      } catch (e) {
        errors = String(e.message).split('\n');
      }
    }
    out.push({ file, index, kind: doc?.kind ?? null, errors });
  });
}
process.stdout.write(JSON.stringify(out));
