/**
 * `model.folder`: a Stable Diffusion / SDXL / SD3 model exported to ONNX in the layout Hugging Face Optimum and
 * diffusers write (see `folder.ts`), as the three values a text-to-image pipeline wires — like ComfyUI's checkpoint
 * loader: the denoiser (MODEL), the text encoders (TEXT_ENCODER) and the VAE (VAE).
 */
import * as path from 'path';
import { DpipeError } from '../core/errors';
import type { NodeType } from '../registry/node';
import type { ParamSpec } from '../registry/types';
import { fitLatentPreview } from '../vae/preview';
import { loadModelFolder, ZERO_SNR_TERMINALS, type ZeroSnrTerminal } from './folderModel';
import type { ExecutionProvider } from './onnx';
import { FALLBACK_PARAM, PROVIDER_PARAM } from './params';

const PARAMS: readonly ParamSpec[] = [
  { name: 'path', type: 'file', default: '', extensions: [], directory: true, mustExist: true, doc: 'The model folder (model_index.json, unet/ or transformer/, text_encoder*/, tokenizer*/, vae_decoder/, vae_encoder/, scheduler/), relative to the .dpipe file.' },
  PROVIDER_PARAM,
  FALLBACK_PARAM,
  { name: 'keepLoaded', type: 'boolean', default: false, advanced: true, doc: 'Keep the text encoders and the VAE in memory after use. Off: each is loaded when needed and released after, so sampling holds only the denoiser.' },
  { name: 'roundTimesteps', type: 'boolean', default: false, advanced: true, doc: 'Feed the UNet round(t) instead of the fractional timestep (diffusers\' multistep schedulers with Karras σs round; its Euler schedulers do not).' },
  {
    name: 'zeroSnrTerminal', type: 'enum', default: 'auto', options: ZERO_SNR_TERMINALS, advanced: true,
    doc: 'For schedulers with rescale_betas_zero_snr: how the last training step\'s σ = ∞ is kept.',
    optionDocs: {
      auto: 'As the folder\'s scheduler class does: exact for DDIM/DDPM/LCM/TCD, clamped for the others.',
      exact: 'ᾱ = 0, σ = ∞ (held as 2⁴⁰): diffusers\' DDIM and DDPM schedulers.',
      clamped: 'ᾱ = 2⁻²⁴, σ ≈ 4096: diffusers\' Euler, DPM-Solver, UniPC and other σ-based schedulers.',
    },
  },
  {
    name: 'preview', type: 'enum', default: 'fit', options: ['fit', 'decoder', 'off'], advanced: true,
    doc: 'How live previews and the inspector show latents as RGB.',
    optionDocs: {
      fit: 'A linear latent → RGB view fitted on this folder\'s VAE decoder (one small decode, cached).',
      decoder: 'The tiny preview decoder in previewDecoder (a TAESD-style ONNX model), for previews only.',
      off: 'Channels shown as they are (the first three as RGB).',
    },
  },
  { name: 'previewDecoder', type: 'file', default: '', extensions: ['.onnx'], mustExist: true, advanced: true, doc: 'preview "decoder": a small ONNX decoder (e.g. TAESD) taking the denoiser\'s latent [B, C, h, w] and giving an image [B, 3, H, W].' },
  { name: 'previewDecoderRange', type: 'numberList', default: [0, 1], advanced: true, doc: 'The value range of the preview decoder\'s image (TAESD: [0, 1]).' },
  { name: 'previewDecoderScale', type: 'number', default: 1, min: 0, exclusiveMin: true, advanced: true, doc: 'The latent is multiplied by this before the preview decoder sees it (TAESD takes the denoiser\'s latent as is: 1; a full VAE decoder: 1/scaling_factor).' },
  { name: 'threads', type: 'integer', default: 0, min: 0, max: 256, advanced: true, doc: "onnxruntime intra-op threads. 0 = the run's default, else onnxruntime's (one per core)." },
];

export const MODEL_FOLDER: NodeType = {
  type: 'model.folder',
  category: 'Model',
  title: 'Model folder (SD / SDXL / SD3)',
  doc:
    'A latent text-to-image model exported to ONNX as Hugging Face Optimum (`optimum-cli export onnx`) or diffusers\' ONNX ' +
    'pipelines write it: Stable Diffusion 1.x/2.x, SDXL, SD3. Every convention comes from the folder\'s configs ' +
    '(prediction type, training noise schedule incl. zero terminal SNR, timestep spacing, flow shift, VAE scaling); ' +
    'float16 and float32 exports and external weight files (model.onnx_data) load as they are. Outputs the denoiser ' +
    '(the UNet or transformer in the engine\'s one contract), the text encoders with their tokenizers for cond.prompt, ' +
    'and the VAE for vae.decode / vae.encode. `dpipe inspect FOLDER` shows every part and where each setting comes from.',
  paper:
    'Rombach et al. 2022, "High-Resolution Image Synthesis with Latent Diffusion Models" (Stable Diffusion); Podell et al. 2023, ' +
    '"SDXL"; Esser et al. 2024, "Scaling Rectified Flow Transformers for High-Resolution Image Synthesis" (SD3). Conventions as ' +
    'diffusers\' StableDiffusion(XL|3)Pipeline and Optimum\'s ORT pipelines read them.',
  inputs: [],
  outputs: [
    { name: 'model', type: 'MODEL', doc: 'The denoiser (UNet or transformer) in EDM coordinates, with the folder\'s noise schedule.' },
    { name: 'text', type: 'TEXT_ENCODER', doc: 'The text encoders and tokenizers, for cond.prompt.' },
    { name: 'vae', type: 'VAE', doc: 'The VAE decoder and encoder with their scaling.' },
  ],
  params: PARAMS,
  async evaluate(ctx, _inputs, params) {
    const p = params.path;
    if (typeof p !== 'string' || p === '') throw new DpipeError('E_PARAM_VALUE', `model.folder "${ctx.nodeId}" needs \`path\`: the model folder, relative to the .dpipe file.`);
    const d = ctx.services.modelDefaults ?? {};
    const provider = (params.provider === 'auto' || params.provider === undefined ? d.provider || 'cpu' : params.provider) as ExecutionProvider;
    const loaded = await loadModelFolder(path.resolve(ctx.baseDir, p), {
      provider,
      fallbackToCpu: params.fallbackToCpu === true || d.fallbackToCpu === true,
      threads: (params.threads as number) || d.threads || undefined,
      keepLoaded: params.keepLoaded === true,
      roundTimesteps: params.roundTimesteps === true,
      zeroSnrTerminal: params.zeroSnrTerminal as ZeroSnrTerminal,
    });
    if (loaded.model.info.providerNote) ctx.services.warn?.(ctx.nodeId, loaded.model.info.providerNote);
    for (const n of loaded.folder.notes) ctx.services.warn?.(ctx.nodeId, n);
    let model = loaded.model;
    if (params.preview === 'fit' && loaded.vae.decoder) {
      model = { ...model, preview: await fitLatentPreview(loaded.vae, ctx.services.signal) };
    } else if (params.preview === 'decoder') {
      const dec = params.previewDecoder;
      if (typeof dec !== 'string' || dec === '') throw new DpipeError('E_PARAM_VALUE', `model.folder "${ctx.nodeId}": preview "decoder" needs previewDecoder, an ONNX preview decoder (e.g. TAESD)`);
      const range = params.previewDecoderRange as number[];
      if (range.length !== 2 || !(range[0] < range[1])) throw new DpipeError('E_PARAM_VALUE', `model.folder "${ctx.nodeId}": previewDecoderRange must be [lo, hi] with lo < hi`);
      model = { ...model, previewDecoder: { path: path.resolve(ctx.baseDir, dec), range: [range[0], range[1]], inputScale: params.previewDecoderScale as number } };
    }
    return { model, text: loaded.text, vae: loaded.vae };
  },
};
