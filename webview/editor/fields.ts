/**
 * Text ⇄ value for the inspector's fields, checked with the loader's own `checkParamValue`, so the webview
 * sends only values the host will accept. React-free.
 */
import { checkParamValue, describeParam } from '../../src/engine/format/registry';
import type { ParamSpec, ParamValue } from '../../src/engine/registry/types';

/** Parses the text of a field into the value its spec wants; returns an error message when it cannot. */
export function parseFieldText(spec: ParamSpec, text: string): { ok: true; value: ParamValue } | { ok: false; error: string } {
  const t = text.trim();
  let value: ParamValue;
  switch (spec.type) {
    case 'number':
    case 'integer':
    case 'seed': {
      if (t === '') return { ok: false, error: `enter ${describeParam(spec)}` };
      const n = Number(t);
      if (!Number.isFinite(n)) return { ok: false, error: `must be ${describeParam(spec)}, got "${t}"` };
      value = n;
      break;
    }
    case 'numberList': {
      const parts = t === '' ? [] : t.split(/[\s,;]+/).filter((s) => s !== '');
      const nums = parts.map(Number);
      const bad = parts.findIndex((s, i) => !Number.isFinite(nums[i]));
      if (bad >= 0) return { ok: false, error: `"${parts[bad]}" is not a number; write numbers separated by commas` };
      value = nums;
      break;
    }
    default:
      value = text;
  }
  const err = checkParamValue(spec, value);
  return err ? { ok: false, error: err } : { ok: true, value };
}

export function formatFieldText(spec: ParamSpec, v: ParamValue): string {
  if (Array.isArray(v)) return v.join(', ');
  return String(v);
}

/** A fresh random seed in [0, 2³²) from the platform's CSPRNG. */
export function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}
