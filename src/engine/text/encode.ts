/**
 * Prompt → model conditioning for a model folder's family, as diffusers' pipelines build it:
 *
 * - `sd` (StableDiffusionPipeline, SD 1.x/2.x): `encoder_hidden_states` = the text encoder's `last_hidden_state`
 *   (`encode_prompt`, clip_skip unset).
 * - `sdxl` (StableDiffusionXLPipeline; Podell et al. 2023, "SDXL", §2.1): both encoders' penultimate hidden states
 *   (`hidden_states[-2]`, i.e. the ONNX output `hidden_states.{L−1}` of an L-layer encoder) concatenated on the feature
 *   axis → `encoder_hidden_states`; the second encoder's projected pooled output → `text_embeds`. `time_ids` (original
 *   size, crop, target size) are added by the model wrapper from the latent size unless the prompt block sets them.
 * - `sd3` (StableDiffusion3Pipeline; Esser et al. 2024, "Scaling Rectified Flow Transformers", §5.2): both CLIP
 *   encoders' penultimate hidden states concatenated, zero-padded on the feature axis to the T5 width, then the T5
 *   encoder's `last_hidden_state` (max_sequence_length tokens) appended on the token axis → `encoder_hidden_states`;
 *   the two pooled projections concatenated → `pooled_projections`. Without a T5 encoder its part is zeros of
 *   [max_sequence_length, joint_attention_dim], as diffusers does when `text_encoder_3` is None.
 *
 * `clipSkip` k selects `hidden_states[-(k+2)]` where the pipeline uses the penultimate layer (SDXL, SD3), as
 * diffusers' `clip_skip` does; SD 1.x/2.x would also need the encoder's final layer norm, which an ONNX export does
 * not expose, so it is refused there.
 *
 * Each encoder's session is opened for the encoding and released after it unless `keepLoaded` (a text encoder is
 * not kept in memory while the denoiser samples).
 */
import * as path from 'path';
import { DpipeError } from '../core/errors';
import type { CondTensor, CondValue } from '../registry/types';
import type { FolderFamily, TextEncoderPart } from '../model/folder';
import { openSession, releaseSession, toFloat64, type SessionOptions, type Tensor, type TensorInfo } from '../model/onnx';
import { loadTokenizer, type PromptTokenizer } from './tokenizer';

/** TEXT_ENCODER: a folder's text encoders with their tokenizers, ready to turn prompts into conditioning. */
export interface TextEncoderValue {
  readonly family: FolderFamily;
  /** The folder, for messages and the run record. */
  readonly dir: string;
  readonly encoders: readonly { readonly part: TextEncoderPart; readonly tokenizer: PromptTokenizer }[];
  /** SD3: the joint attention width the T5 part pads to (transformer config joint_attention_dim). */
  readonly jointDim?: number;
  /** Model input names the conditioning feeds. */
  readonly inputs: { readonly hidden: string; readonly pooled?: string };
  readonly session: SessionOptions;
  /** Keep the encoder sessions loaded after encoding (default: released). */
  readonly keepLoaded: boolean;
}

export interface EncodeOptions {
  /** Layers skipped from the end (diffusers clip_skip); 0 = the pipeline's default layer. */
  readonly clipSkip?: number;
  /** SD3's T5 token count (diffusers max_sequence_length, default 256). */
  readonly maxSequenceLength?: number;
  /** Zeros instead of the encoding (SDXL's force_zeros_for_empty_prompt for a missing negative prompt). */
  readonly zeros?: boolean;
  readonly signal?: AbortSignal;
}

export interface PromptEncoding {
  readonly cond: CondValue & { kind: 'tensors' };
  /** Truncation notes, one per encoder that dropped tokens. */
  readonly warnings: readonly string[];
  /** The token ids each encoder received. */
  readonly tokens: readonly (readonly number[])[];
}

interface EncoderOutput {
  readonly hidden: { data: Float64Array; dims: number[] };
  readonly pooled?: { data: Float64Array; dims: number[] };
}

function rel(dir: string, file: string): string {
  return path.relative(dir, file).split(path.sep).join('/');
}

/** The value a part's hidden-state output should be read from, by the pipeline's layer choice. */
function hiddenOutputName(te: TextEncoderValue, part: TextEncoderPart, outputs: readonly TensorInfo[], penultimate: boolean, clipSkip: number): string {
  const names = outputs.map((o) => o.name);
  if (!penultimate) {
    if (clipSkip > 0) {
      throw new DpipeError('E_PARAM_VALUE', `clipSkip ${clipSkip}: ${te.family === 'sd' ? 'Stable Diffusion 1.x/2.x' : 'this pipeline'} uses the encoder's last hidden state after its final layer norm, which an ONNX export does not expose per layer; set clipSkip to 0`);
    }
    if (names.includes('last_hidden_state')) return 'last_hidden_state';
    throw new DpipeError('E_MODEL_FOLDER', `${rel(te.dir, part.onnx)} has no "last_hidden_state" output (outputs: ${names.join(', ')})`);
  }
  const layers = names.map((n) => /^hidden_states\.(\d+)$/.exec(n)).filter((m): m is RegExpExecArray => m !== null).map((m) => Number(m[1]));
  if (layers.length === 0) {
    throw new DpipeError(
      'E_MODEL_FOLDER',
      `${rel(te.dir, part.onnx)} exports no hidden_states.N outputs, but ${te.family === 'sdxl' ? 'SDXL' : 'SD3'} conditions on the penultimate layer; re-export it with its hidden states (Optimum does so for ${te.family === 'sdxl' ? 'SDXL' : 'SD3'} text encoders). Outputs: ${names.join(', ')}`,
    );
  }
  const last = Math.max(...layers);
  const layer = last - 1 - clipSkip;
  if (layer < 0 || !layers.includes(layer)) {
    throw new DpipeError('E_PARAM_VALUE', `clipSkip ${clipSkip} asks for hidden_states.${layer} of ${rel(te.dir, part.onnx)}, which exports hidden_states.0..${last}`);
  }
  return `hidden_states.${layer}`;
}

async function runEncoder(te: TextEncoderValue, part: TextEncoderPart, ids: readonly number[], penultimate: boolean, wantPooled: boolean, clipSkip: number, signal?: AbortSignal): Promise<EncoderOutput> {
  const session = await openSession(part.onnx, te.session);
  try {
    const idsInfo = session.io.inputs.find((t) => t.name === 'input_ids');
    if (!idsInfo) throw new DpipeError('E_MODEL_FOLDER', `${rel(te.dir, part.onnx)} has no "input_ids" input (inputs: ${session.io.inputs.map((t) => t.name).join(', ')})`);
    const feeds: Record<string, Tensor> = {};
    const dims = [1, ids.length];
    const intTensor = (info: TensorInfo, values: readonly number[]): Tensor =>
      info.type === 'int32' ? { type: 'int32', data: Int32Array.from(values), dims } : { type: 'int64', data: BigInt64Array.from(values, (v) => BigInt(v)), dims };
    if (idsInfo.type !== 'int32' && idsInfo.type !== 'int64') throw new DpipeError('E_MODEL_FOLDER', `${rel(te.dir, part.onnx)}: input_ids is ${idsInfo.type}; expected int32 or int64`);
    feeds.input_ids = intTensor(idsInfo, ids);
    for (const t of session.io.inputs) {
      if (t.name === 'input_ids') continue;
      // diffusers calls the encoders without an attention mask (all tokens attended); an export that takes one gets ones.
      if (t.name === 'attention_mask' && (t.type === 'int32' || t.type === 'int64')) feeds.attention_mask = intTensor(t, new Array<number>(ids.length).fill(1));
      else throw new DpipeError('E_MODEL_FOLDER', `${rel(te.dir, part.onnx)}: unexpected input "${t.name}" (${t.type}); a text encoder takes input_ids (and optionally attention_mask)`);
    }
    const hiddenName = hiddenOutputName(te, part, session.io.outputs, penultimate, clipSkip);
    const pooledName = wantPooled ? ['text_embeds', 'pooler_output'].find((n) => session.io.outputs.some((o) => o.name === n)) : undefined;
    if (wantPooled && !pooledName) {
      throw new DpipeError('E_MODEL_FOLDER', `${rel(te.dir, part.onnx)} has no pooled output (text_embeds); ${te.family === 'sdxl' ? 'SDXL' : 'SD3'} needs the projected pooled prompt embedding (outputs: ${session.io.outputs.map((o) => o.name).join(', ')})`);
    }
    if (signal?.aborted) throw new DpipeError('E_ABORTED', 'The run was stopped.');
    const out = await session.run(feeds, pooledName ? [hiddenName, pooledName] : [hiddenName], signal);
    const h = out[hiddenName];
    const result: EncoderOutput = { hidden: { data: toFloat64(h), dims: [...h.dims] } };
    if (h.dims.length !== 3) throw new DpipeError('E_MODEL_FOLDER', `${rel(te.dir, part.onnx)}: ${hiddenName} has shape [${h.dims.join(',')}]; expected [batch, tokens, features]`);
    if (pooledName) {
      const p = out[pooledName];
      return { ...result, pooled: { data: toFloat64(p), dims: [...p.dims] } };
    }
    return result;
  } finally {
    if (!te.keepLoaded) releaseSession(part.onnx);
  }
}

function checkFinite(te: TextEncoderValue, part: TextEncoderPart, data: Float64Array): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new DpipeError('E_NAN', `${rel(te.dir, part.onnx)} returned NaN or infinity (element ${i})${/float16|fp16/i.test(part.onnx) ? '' : ''}; a float16 text encoder can overflow: use a float32 export`);
    }
  }
}

/** Concatenates [1, T, D_i] arrays on the feature axis. */
function concatFeatures(parts: readonly { data: Float64Array; dims: number[] }[]): { data: Float64Array; dims: number[] } {
  const T = parts[0].dims[1];
  for (const p of parts) if (p.dims[1] !== T) throw new DpipeError('E_MODEL_FOLDER', `the text encoders give different token counts (${parts.map((q) => q.dims[1]).join(' vs ')})`);
  const D = parts.reduce((a, p) => a + p.dims[2], 0);
  const out = new Float64Array(T * D);
  let off = 0;
  for (const p of parts) {
    const d = p.dims[2];
    for (let t = 0; t < T; t++) out.set(p.data.subarray(t * d, (t + 1) * d), t * D + off);
    off += d;
  }
  return { data: out, dims: [1, T, D] };
}

function tensor(input: string, a: { data: Float64Array; dims: readonly number[] }): CondTensor {
  return { input, shape: [...a.dims], data: Float32Array.from(a.data) };
}

/**
 * Encodes a prompt with the folder's encoders into the conditioning its denoiser takes. Errors name the encoder file:
 * missing outputs, shapes that do not fit together, NaN/∞ (float16 overflow).
 */
export async function encodePrompt(te: TextEncoderValue, text: string, o: EncodeOptions = {}): Promise<PromptEncoding> {
  const clipSkip = o.clipSkip ?? 0;
  const warnings: string[] = [];
  const tokens: number[][] = [];
  const tokenize = (i: number, max?: number) => {
    const { part, tokenizer } = te.encoders[i];
    const t = tokenizer.encode(text, max);
    if (t.dropped > 0) {
      warnings.push(`the prompt is ${t.length} tokens for ${part.name} (at most ${max ?? tokenizer.maxLength} with its special tokens): the last ${t.dropped} token${t.dropped === 1 ? '' : 's'} ("${t.droppedText.trim()}") were dropped`);
    }
    tokens.push([...t.ids]);
    return t.ids;
  };
  const run = async (i: number, penultimate: boolean, pooled: boolean, max?: number) => {
    const ids = tokenize(i, max);
    const out = await runEncoder(te, te.encoders[i].part, ids, penultimate, pooled, clipSkip, o.signal);
    checkFinite(te, te.encoders[i].part, out.hidden.data);
    if (out.pooled) checkFinite(te, te.encoders[i].part, out.pooled.data);
    return out;
  };
  const zerosLike = (a: { dims: readonly number[] }) => ({ data: new Float64Array(a.dims.reduce((x, y) => x * y, 1)), dims: [...a.dims] });

  if (te.family === 'sd') {
    const out = await run(0, false, false);
    const hidden = o.zeros ? zerosLike(out.hidden) : out.hidden;
    return { cond: { kind: 'tensors', tensors: [tensor(te.inputs.hidden, hidden)], prompt: text }, warnings, tokens };
  }

  if (te.family === 'sdxl') {
    // The refiner has only text_encoder_2; the base model both.
    const outs: EncoderOutput[] = [];
    for (let i = 0; i < te.encoders.length; i++) outs.push(await run(i, true, i === te.encoders.length - 1));
    let hidden = concatFeatures(outs.map((x) => x.hidden));
    let pooled = outs[outs.length - 1].pooled!;
    if (o.zeros) {
      hidden = zerosLike(hidden);
      pooled = zerosLike(pooled);
    }
    return { cond: { kind: 'tensors', tensors: [tensor(te.inputs.hidden, hidden), tensor(te.inputs.pooled ?? 'text_embeds', pooled)], prompt: text }, warnings, tokens };
  }

  // sd3
  const clipOuts = [await run(0, true, true), await run(1, true, true)];
  const clip = concatFeatures(clipOuts.map((x) => x.hidden));
  const seqT5 = o.maxSequenceLength ?? 256;
  let t5: { data: Float64Array; dims: number[] };
  if (te.encoders.length > 2) {
    const out = await run(2, false, false, seqT5);
    t5 = out.hidden;
  } else {
    if (!te.jointDim) throw new DpipeError('E_MODEL_FOLDER', `${te.dir}: without text_encoder_3 the T5 part is zeros of the transformer's joint_attention_dim, which transformer/config.json does not give`);
    t5 = { data: new Float64Array(seqT5 * te.jointDim), dims: [1, seqT5, te.jointDim] };
  }
  const D = t5.dims[2];
  const Dc = clip.dims[2];
  if (Dc > D) throw new DpipeError('E_MODEL_FOLDER', `${te.dir}: the CLIP encoders give ${Dc} features together, more than the T5 width ${D} they are padded to`);
  const Tc = clip.dims[1];
  const Tt = t5.dims[1];
  const hidden = new Float64Array((Tc + Tt) * D);
  for (let t = 0; t < Tc; t++) hidden.set(clip.data.subarray(t * Dc, (t + 1) * Dc), t * D);
  hidden.set(t5.data, Tc * D);
  const p1 = clipOuts[0].pooled!;
  const p2 = clipOuts[1].pooled!;
  const pooled = { data: new Float64Array(p1.data.length + p2.data.length), dims: [1, p1.dims[1] + p2.dims[1]] };
  pooled.data.set(p1.data, 0);
  pooled.data.set(p2.data, p1.data.length);
  let h = { data: hidden, dims: [1, Tc + Tt, D] };
  let pp = pooled;
  if (o.zeros) {
    h = zerosLike(h);
    pp = zerosLike(pp);
  }
  return { cond: { kind: 'tensors', tensors: [tensor(te.inputs.hidden, h), tensor(te.inputs.pooled ?? 'pooled_projections', pp)], prompt: text }, warnings, tokens };
}

/** Loads the tokenizers of a folder's text encoders (cheap: no ONNX session is opened). */
export async function loadTextEncoders(
  dir: string,
  family: FolderFamily,
  parts: readonly TextEncoderPart[],
  extra: { jointDim?: number; session: SessionOptions; keepLoaded: boolean },
): Promise<TextEncoderValue> {
  const encoders = [];
  for (const part of parts) encoders.push({ part, tokenizer: await loadTokenizer(part.tokenizer.dir) });
  const inputs = family === 'sd' ? { hidden: 'encoder_hidden_states' } : family === 'sdxl' ? { hidden: 'encoder_hidden_states', pooled: 'text_embeds' } : { hidden: 'encoder_hidden_states', pooled: 'pooled_projections' };
  return { family, dir, encoders, jointDim: extra.jointDim, inputs, session: extra.session, keepLoaded: extra.keepLoaded };
}
