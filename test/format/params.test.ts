/**
 * The parameter codec (src/engine/registry/params.ts): one text form and one set of messages for every place a
 * parameter is written — the loader, a block's own option reading, the inspector's fields and `--set` — checked
 * here on every spec type, and on every parameter of the real registry (text round trip of each default).
 */
import { strict as assert } from 'assert';
import { DpipeError } from '../../src/engine/core/errors';
import { nodeTypes } from '../../src/engine/registry/index';
import {
  checkParamValue, decodeParamText, defineParams, describeParam, formatParamText, paramJsonSchema, parseParamText, readParams, withDefaults, type OptionsOf,
} from '../../src/engine/registry/params';
import type { ParamSpec, ParamValue } from '../../src/engine/registry/types';
import { coerceParamText } from '../../src/engine/run/overrides';

const SPECS = defineParams(
  { name: 'steps', type: 'integer', default: 10, min: 1, max: 1000, doc: 'steps' },
  { name: 'rho', type: 'number', default: 7, min: 0, exclusiveMin: true, doc: 'rho' },
  { name: 'eta', type: 'number', default: 1, min: 0, max: 1, doc: 'eta' },
  { name: 'on', type: 'boolean', default: false, doc: 'on' },
  { name: 'mode', type: 'enum', default: 'a', options: ['a', 'b c'], doc: 'mode' },
  { name: 'prompt', type: 'string', default: '', doc: 'prompt' },
  { name: 'path', type: 'file', default: '', extensions: ['.npy'], doc: 'path' },
  { name: 'seed', type: 'seed', default: 0, doc: 'seed' },
  { name: 'values', type: 'numberList', default: [], min: 0, doc: 'values' },
);
const spec = (name: string): ParamSpec => SPECS.find((s) => s.name === name)!;

describe('parameter codec', () => {
  it('types the options of a spec list (checked by tsc) and reads them with defaults', () => {
    const o: OptionsOf<typeof SPECS> = readParams('test.block', SPECS, { steps: 3, mode: 'b c' });
    const steps: number = o.steps;
    const mode: 'a' | 'b c' = o.mode;
    const values: readonly number[] = o.values;
    assert.deepEqual([steps, mode, values, o.rho, o.on], [3, 'b c', [], 7, false]);
    assert.deepEqual(withDefaults(SPECS, { steps: 3, unknown: 1 }), { steps: 3, rho: 7, eta: 1, on: false, mode: 'a', prompt: '', path: '', seed: 0, values: [] });
  });

  it('refuses with the same words in readParams, checkParamValue and text parsing', () => {
    const cases: [string, ParamValue, string][] = [
      ['steps', 0, 'must be an integer in [1, 1000], got 0'],
      ['steps', 2.5, 'must be an integer in [1, 1000], got 2.5'],
      ['rho', 0, 'must be a number > 0, got 0'],
      ['eta', 2, 'must be a number in [0, 1], got 2'],
      ['mode', 'c', 'must be one of "a", "b c", got "c"'],
      ['path', 'x.txt', 'must be a path relative to the .dpipe file, ending in .npy, got "x.txt"'],
      ['seed', -1, `must be an integer in [0, ${Number.MAX_SAFE_INTEGER}], got -1`],
      ['values', [1, -1], 'must be a list of numbers ≥ 0, got [1,-1] (item 1 is -1)'],
    ];
    for (const [name, value, why] of cases) {
      assert.equal(checkParamValue(spec(name), value), why, name);
      assert.throws(() => readParams('test.block', SPECS, { [name]: value }), (e: unknown) => e instanceof DpipeError && e.code === 'E_PARAM_VALUE' && e.message === `test.block: parameter "${name}" ${why}`);
      const text = formatParamText(spec(name), value);
      assert.deepEqual(parseParamText(spec(name), text), { ok: false, error: why }, `${name} as text ${JSON.stringify(text)}`);
    }
    assert.equal(checkParamValue(spec('on'), 1), 'must be true or false, got 1');
    assert.equal(describeParam(spec('values')), 'a list of numbers ≥ 0');
  });

  it('reads text: numbers, booleans, lists with or without brackets, quoted strings', () => {
    const ok = (name: string, text: string, value: ParamValue) => assert.deepEqual(parseParamText(spec(name), text), { ok: true, value }, `${name} ${text}`);
    ok('steps', ' 32 ', 32);
    ok('rho', '1e-1', 0.1);
    ok('on', 'true', true);
    ok('values', '14.6, 7.0 2.9;0', [14.6, 7, 2.9, 0]);
    ok('values', '[1, 2]', [1, 2]);
    ok('values', '', []);
    ok('values', '[]', []);
    ok('mode', ' b c ', 'b c');
    ok('mode', '"a"', 'a');
    ok('prompt', ' a cat ', ' a cat ');
    ok('prompt', '" padded "', ' padded ');
    const bad = (name: string, text: string, error: string) => assert.deepEqual(parseParamText(spec(name), text), { ok: false, error }, `${name} ${text}`);
    bad('steps', 'zero', 'must be an integer in [1, 1000], got "zero"');
    bad('steps', '', 'must be an integer in [1, 1000], got nothing');
    bad('on', 'yes', 'must be true or false, got "yes"');
    bad('values', '1, x', 'must be a list of numbers ≥ 0, got "x" (write numbers separated by commas)');
    // `--set` keeps text it cannot convert, so the check names what was written; range errors keep the typed value.
    assert.equal(coerceParamText(spec('steps'), 'zero'), 'zero');
    assert.equal(coerceParamText(spec('steps'), '0'), 0);
    assert.deepEqual(decodeParamText(spec('steps'), '0'), { ok: true, value: 0 });
  });

  it('formats every value so that it reads back, including strings that look quoted', () => {
    const round = (name: string, v: ParamValue) => assert.deepEqual(parseParamText(spec(name), formatParamText(spec(name), v)), { ok: true, value: v }, `${name} ${JSON.stringify(v)}`);
    round('prompt', '"quoted"');
    round('prompt', ' spaced ');
    round('values', [0.5, 1e-9, 3]);
    round('on', false);
    round('rho', 0.1 + 0.2);
    assert.equal(formatParamText(spec('values'), [14.6, 7, 0]), '14.6, 7, 0');
  });

  it('every parameter of the real registry: its default is allowed and reads back from its text', () => {
    let n = 0;
    for (const t of nodeTypes().values()) {
      for (const p of t.params) {
        assert.equal(checkParamValue(p, p.default), undefined, `${t.type}.${p.name}`);
        assert.deepEqual(parseParamText(p, formatParamText(p, p.default)), { ok: true, value: p.default }, `${t.type}.${p.name}`);
        n++;
      }
    }
    assert.ok(n > 250, `${n} parameters`);
  });

  it('gives each parameter its JSON Schema: type, range, enum with descriptions, default', () => {
    assert.deepEqual(paramJsonSchema(spec('rho')), { type: 'number', description: 'rho: rho', default: 7, exclusiveMinimum: 0 });
    assert.deepEqual(paramJsonSchema(spec('steps')), { type: 'integer', description: 'steps: steps', default: 10, minimum: 1, maximum: 1000 });
    assert.deepEqual(paramJsonSchema(spec('values')), { type: 'array', description: 'values: values', default: [], items: { type: 'number', minimum: 0 } });
    assert.deepEqual(paramJsonSchema(spec('mode')), { type: 'string', description: 'mode: mode', default: 'a', enum: ['a', 'b c'] });
  });
});
