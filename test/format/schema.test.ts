import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import { buildSchema, schemaText, structuralSchema } from '../../src/engine/format/index';
import { registryInfo } from '../../src/engine/registry/index';
import { FAKE_REGISTRY } from './fake-registry';

const ROOT = path.join(__dirname, '..', '..');
const GOOD = JSON.parse(readFileSync(path.join(ROOT, 'test/fixtures/pipelines/good.dpipe'), 'utf8'));

function validator(schema: object) {
  return new Ajv({ allErrors: true, strict: false }).compile(schema);
}

describe('format/schema', () => {
  it('schema/dpipe.schema.json is current (else run `node --import tsx scripts/gen-schema.mjs`)', () => {
    const committed = readFileSync(path.join(ROOT, 'schema', 'dpipe.schema.json'), 'utf8');
    assert.ok(committed === schemaText(registryInfo()), 'schema/dpipe.schema.json is stale: run `node --import tsx scripts/gen-schema.mjs` (npm run schema) and commit it');
  });

  it('is draft-07 with one if/then per block giving its params', () => {
    const s = buildSchema(FAKE_REGISTRY) as { $schema: string; definitions: Record<string, { allOf?: unknown[]; properties: Record<string, unknown> }> };
    assert.equal(s.$schema, 'http://json-schema.org/draft-07/schema#');
    assert.equal(s.definitions.node.allOf?.length, FAKE_REGISTRY.length);
    assert.deepEqual(s.definitions['params:schedule.karras'].properties.steps, {
      type: 'integer', description: 'steps: Number of steps.', default: 10, minimum: 1, maximum: 1000,
    });
    assert.deepEqual(s.definitions['params:schedule.karras'].properties.rho, {
      type: 'number', description: 'rho: ρ.', default: 7, exclusiveMinimum: 0,
    });
    assert.deepEqual((s.definitions['params:model.onnx'].properties.prediction as { enum: string[] }).enum, ['epsilon', 'v_prediction', 'sample']);
    assert.deepEqual((s.definitions.node.properties.type as { enum: string[] }).enum, FAKE_REGISTRY.map((t) => t.type));
  });

  it('accepts a good pipeline and rejects bad params at their instance path', () => {
    const validate = validator(buildSchema(FAKE_REGISTRY));
    assert.equal(validate(GOOD), true, JSON.stringify(validate.errors));
    const bad = structuredClone(GOOD);
    bad.nodes[2].params.steps = 0;
    bad.nodes[0].params.prediction = 'v';
    bad.nodes[1].params.extra = 1;
    assert.equal(validate(bad), false);
    const paths = new Set((validate.errors ?? []).map((e) => `${e.instancePath} ${e.keyword}`));
    assert.ok(paths.has('/nodes/2/params/steps minimum'), [...paths].join('\n'));
    assert.ok(paths.has('/nodes/0/params/prediction enum'), [...paths].join('\n'));
    assert.ok(paths.has('/nodes/1/params additionalProperties'), [...paths].join('\n'));
  });

  it('the structural schema checks shape only', () => {
    const validate = validator(structuralSchema());
    assert.equal(validate(GOOD), true);
    assert.equal(validate({ ...GOOD, nodes: [{ id: 'a' }] }), false);
    assert.equal(validate({ ...GOOD, edges: [{ from: 'a', to: 'b.c' }] }), false);
  });

  it('the real registry: schema compiles, every block default passes its own schema', () => {
    const info = registryInfo();
    const validate = validator(buildSchema(info));
    const doc = {
      dpipe: 1,
      nodes: info.map((t, i) => ({ id: `n${i}`, type: t.type, params: Object.fromEntries(t.params.map((p) => [p.name, p.default])) })),
      edges: [],
    };
    assert.equal(validate(doc), true, JSON.stringify(validate.errors?.slice(0, 5)));
  });
});
