/** `dpipe inspect MODEL.onnx`: inputs, outputs, shapes and the convention dpipe detects. */
import * as path from 'node:path';
import { describeModel, type ModelDescription } from '../../engine/model/index';
import { EXIT, commandArgs, usageError, type Command } from '../command';

const USAGE = `Usage: dpipe inspect MODEL.onnx [--json]

Prints the model's inputs and outputs with their shapes, its sidecar (MODEL.onnx.json) if any, the convention
dpipe detects (prediction type, time input, tensor names, schedule) and where each setting came from.

Options:
  --json       the description as JSON
  -h, --help   this text`;

function tensors(list: ModelDescription['inputs']): string[] {
  const w = Math.max(0, ...list.map((t) => t.name.length));
  return list.map((t) => `  ${t.name.padEnd(w)}  ${t.type} [${t.shape.join(', ')}]`);
}

export function describeText(d: ModelDescription, shownPath: string): string {
  const lines = [`${shownPath}`, `  sha256 ${d.sha256}`, `  ${d.onnxruntime}`];
  if (d.description) lines.push(`  ${d.description}`);
  lines.push('', 'inputs:', ...tensors(d.inputs), 'outputs:', ...tensors(d.outputs), '');
  lines.push(`sidecar: ${d.sidecarPath ?? 'none'}`);
  lines.push('convention:');
  const entries = Object.entries(d.convention).filter(([, v]) => v !== undefined);
  const w = Math.max(0, ...entries.map(([k]) => k.length));
  for (const [k, v] of entries) {
    const src = d.sources[k];
    lines.push(`  ${k.padEnd(w)}  ${typeof v === 'object' ? JSON.stringify(v) : String(v)}${src ? `  (${src})` : ''}`);
  }
  if (d.schedule) {
    const s = d.schedule;
    lines.push(`schedule: ${s.kind}, σ from ${+s.sigmaMin.toPrecision(6)} to ${+s.sigmaMax.toPrecision(6)}${s.timesteps ? `, ${s.timesteps} training timesteps` : ''}`);
  }
  if (d.problems.length) lines.push('', 'not determined / notes:', ...d.problems.map((p) => `  - ${p}`));
  return lines.join('\n');
}

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'show an ONNX model\'s inputs, outputs, shapes and the convention dpipe detects',
  usage: USAGE,
  async run(args, io) {
    const parsed = commandArgs(this, args, io, { json: { type: 'boolean' } });
    if (!parsed) return EXIT.OK;
    const { values, positionals } = parsed;
    if (positionals.length !== 1) throw usageError(this, positionals.length ? 'give one model file' : 'missing the .onnx file');
    const d = await describeModel(path.resolve(io.cwd, positionals[0]));
    io.out((values.json ? JSON.stringify(d, null, 2) : describeText(d, positionals[0])) + '\n');
    return EXIT.OK;
  },
};
