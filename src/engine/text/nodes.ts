/**
 * `cond.prompt`: a text prompt encoded by a model folder's text encoders into the conditioning its denoiser takes
 * (`encode.ts`). Wire one to a guider's `positive` input and, for a negative prompt, another to its `negative` input;
 * with no negative the model's own empty conditioning is used, as diffusers does without `negative_prompt` (the empty
 * prompt's encoding; zeros for SDXL with force_zeros_for_empty_prompt).
 */
import { DpipeError } from '../core/errors';
import { defineBlock, type NodeType } from '../registry/node';
import { defineParams } from '../registry/params';
import type { CondValue } from '../registry/types';
import { encodePrompt, type TextEncoderValue } from './encode';

const SIZE_DOC = 'SDXL micro-conditioning (Podell et al. 2023, §2.2), [height, width] in image pixels';

const PARAMS = defineParams(
  { name: 'text', type: 'string', default: '', multiline: true, doc: 'The prompt. Longer prompts than the encoder takes (77 tokens for CLIP) are truncated, with a warning that says what was dropped.' },
  { name: 'clipSkip', type: 'integer', default: 0, min: 0, max: 24, advanced: true, doc: 'Skip this many last layers of the CLIP encoders (diffusers clip_skip; SDXL and SD3, which use hidden states). 0 = the pipeline\'s default layer.' },
  { name: 'maxSequenceLength', type: 'integer', default: 256, min: 1, max: 512, advanced: true, doc: 'SD3: tokens of the T5 encoder (diffusers max_sequence_length).' },
  { name: 'originalSize', type: 'numberList', default: [], min: 1, advanced: true, doc: `${SIZE_DOC}: the "original size"; empty = the image size.` },
  { name: 'cropTopLeft', type: 'numberList', default: [], min: 0, advanced: true, doc: `${SIZE_DOC}: the crop's top-left corner [top, left]; empty = [0, 0].` },
  { name: 'targetSize', type: 'numberList', default: [], min: 1, advanced: true, doc: `${SIZE_DOC}: the target size; empty = the image size.` },
);

function pair(nodeId: string, name: string, l: readonly number[]): number[] | undefined {
  if (l.length === 0) return undefined;
  if (l.length !== 2 || !l.every(Number.isInteger)) throw new DpipeError('E_PARAM_VALUE', `cond.prompt "${nodeId}": ${name} must be empty or two integers [height, width] (cropTopLeft: [top, left]); got [${l.join(', ')}]`);
  return [...l];
}

export const COND_PROMPT = defineBlock({
  type: 'cond.prompt',
  category: 'Conditioning',
  title: 'Prompt',
  doc:
    'A text prompt encoded by a model folder\'s text encoders: SD 1.x/2.x the last hidden state; SDXL both encoders\' ' +
    'penultimate layers and the pooled embedding (plus size conditioning); SD3 both CLIP encoders and T5 (zeros when the ' +
    'folder has no T5). The text encoders are loaded for the encoding and released after it. For a negative prompt, wire ' +
    'a second Prompt block to the guider\'s negative input.',
  paper: 'Radford et al. 2021, "Learning Transferable Visual Models From Natural Language Supervision" (CLIP); Raffel et al. 2020 (T5); prompt assembly as diffusers\' encode_prompt.',
  inputs: [{ name: 'text', type: 'TEXT_ENCODER', doc: 'The text encoders of a model folder.' }],
  outputs: [{ name: 'conditioning', type: 'CONDITIONING', doc: 'The encoded prompt, for a guider.' }],
  params: PARAMS,
  async evaluate(ctx, inputs, o) {
    const te = inputs.text as TextEncoderValue;
    const enc = await encodePrompt(te, o.text, { clipSkip: o.clipSkip, maxSequenceLength: o.maxSequenceLength, signal: ctx.services.signal });
    for (const w of enc.warnings) ctx.services.warn?.(ctx.nodeId, w);
    const originalSize = pair(ctx.nodeId, 'originalSize', o.originalSize);
    const cropTopLeft = pair(ctx.nodeId, 'cropTopLeft', o.cropTopLeft);
    const targetSize = pair(ctx.nodeId, 'targetSize', o.targetSize);
    let conditioning: CondValue = enc.cond;
    if (originalSize || cropTopLeft || targetSize) {
      if (te.family !== 'sdxl') ctx.services.warn?.(ctx.nodeId, `originalSize / cropTopLeft / targetSize are SDXL conditioning; this ${te.family} model ignores them`);
      conditioning = { ...enc.cond, sizes: { originalSize, cropTopLeft, targetSize } };
    }
    return { conditioning };
  },
});

export const TEXT_NODES: NodeType[] = [COND_PROMPT];
