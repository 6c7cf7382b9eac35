/** `dpipe inspect MODEL.onnx | DIR`: inputs, outputs, shapes and the convention dpipe detects. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeModel, type ModelDescription } from '../../engine/model/index';
import { inspectModelFolder, type FolderDescription } from '../../engine/model/folderModel';
import { EXIT, options, usageError, defineCommand } from '../command';

const USAGE = `Usage: dpipe inspect MODEL.onnx [--json]
       dpipe inspect MODEL_FOLDER [--json]

For an .onnx file: its inputs and outputs with their shapes, its sidecar (MODEL.onnx.json) if any, the convention
dpipe detects (prediction type, time input, tensor names, schedule) and where each setting came from.
For a model folder (Stable Diffusion / SDXL / SD3 exported by Optimum or diffusers): every part (UNet or transformer,
text encoders with their tokenizers, VAE decoder and encoder) with its tensors and dtypes, the scheduler config, and
the conventions dpipe derives, each with the file it comes from.

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

function mib(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`;
}

export function describeFolderText(d: FolderDescription, shownPath: string): string {
  const lines = [`${shownPath}: ${d.pipelineClass || d.family} (${d.family})`, `  scheduler ${d.scheduler.className || '?'} (${d.scheduler.path})`, ''];
  for (const p of d.parts) {
    lines.push(`${p.name}: ${p.onnx} (${mib(p.bytes)})${p.config ? `, ${p.config}` : ''}`);
    lines.push('  inputs:', ...tensors(p.inputs).map((l) => `  ${l}`), '  outputs:', ...tensors(p.outputs).map((l) => `  ${l}`));
    if (p.tokenizer) lines.push(`  tokenizer: ${p.tokenizer.dir} (${p.tokenizer.format}), ${p.tokenizer.maxLength} tokens, padding id ${p.tokenizer.padId}`);
  }
  lines.push('', 'conventions:');
  const w = Math.max(0, ...d.conventions.map((c) => c.setting.length));
  for (const c of d.conventions) lines.push(`  ${c.setting.padEnd(w)}  ${c.value}  (${c.from})`);
  if (d.notes.length) lines.push('', 'notes:', ...d.notes.map((n) => `  - ${n}`));
  return lines.join('\n');
}

export const inspectCommand = defineCommand({
  name: 'inspect',
  summary: 'show an ONNX model\'s inputs, outputs, shapes and the convention dpipe detects',
  usage: USAGE,
  options: options([], ['json']),
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw usageError(this, positionals.length ? 'give one model file or folder' : 'missing the .onnx file or model folder');
    const abs = path.resolve(io.cwd, positionals[0]);
    if (fs.statSync(abs, { throwIfNoEntry: false })?.isDirectory()) {
      const f = await inspectModelFolder(abs);
      io.out((values.json ? JSON.stringify(f, null, 2) : describeFolderText(f, positionals[0])) + '\n');
      return EXIT.OK;
    }
    const d = await describeModel(abs);
    io.out((values.json ? JSON.stringify(d, null, 2) : describeText(d, positionals[0])) + '\n');
    return EXIT.OK;
  },
});
