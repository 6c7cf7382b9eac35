/**
 * ComfyUI API-format prompts for tests, written from ComfyUI's documented node inputs (nodes.py,
 * comfy_extras/nodes_custom_sampler.py): a checkpoint, two prompts, an empty latent, a sampler setup, VAE decode and
 * save, as ComfyUI's "Save (API)" writes them.
 */
export type Api = Record<string, { class_type: string; inputs: Record<string, unknown>; _meta?: { title: string } }>;

export interface SigmaCase {
  readonly node: string;
  readonly sampler: string;
  readonly scheduler?: string;
  readonly steps?: number;
  readonly denoise?: number;
  readonly [key: string]: unknown;
}

const base = (): Api => ({
  '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'v1-5-pruned-emaonly.safetensors' } },
  '5': { class_type: 'EmptyLatentImage', inputs: { width: 512, height: 512, batch_size: 1 } },
  '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a photo of a cat', clip: ['4', 1] } },
  '7': { class_type: 'CLIPTextEncode', inputs: { text: 'blurry', clip: ['4', 1] } },
  '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
  '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'ComfyUI', images: ['8', 0] } },
});

/** The prompt of one case of test/fixtures/interop/comfy_sigmas.json. */
export function promptFor(c: SigmaCase): Api {
  const p = base();
  // CFG++ samplers take cfg as λ in [0, 1].
  const cfg = c.sampler.includes('cfg_pp') ? 0.8 : 7;
  if (c.node === 'KSampler') {
    p['3'] = { class_type: 'KSampler', inputs: { seed: 42, steps: c.steps, cfg, sampler_name: c.sampler, scheduler: c.scheduler, denoise: c.denoise, model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0] } };
    return p;
  }
  if (c.node === 'KSamplerAdvanced') {
    p['3'] = {
      class_type: 'KSamplerAdvanced',
      inputs: {
        add_noise: 'enable', noise_seed: 42, steps: c.steps, cfg, sampler_name: c.sampler, scheduler: c.scheduler, start_at_step: c.start_at_step, end_at_step: c.end_at_step,
        return_with_leftover_noise: c.return_with_leftover_noise, model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0],
      },
    };
    return p;
  }
  let sigmas: [string, number] = ['20', 0];
  switch (c.node) {
    case 'BasicScheduler':
      p['20'] = { class_type: 'BasicScheduler', inputs: { scheduler: c.scheduler, steps: c.steps, denoise: c.denoise, model: ['4', 0] } };
      break;
    case 'KarrasScheduler':
    case 'PolyexponentialScheduler':
      p['20'] = { class_type: c.node, inputs: { steps: c.steps, sigma_max: c.sigma_max, sigma_min: c.sigma_min, rho: c.rho } };
      break;
    case 'ExponentialScheduler':
      p['20'] = { class_type: c.node, inputs: { steps: c.steps, sigma_max: c.sigma_max, sigma_min: c.sigma_min } };
      break;
    case 'AlignYourStepsScheduler':
      p['20'] = { class_type: c.node, inputs: { model_type: c.model_type, steps: c.steps, denoise: c.denoise } };
      break;
    case 'BetaSamplingScheduler':
      p['20'] = { class_type: c.node, inputs: { steps: c.steps, alpha: c.alpha, beta: c.beta, model: ['4', 0] } };
      break;
    case 'SplitSigmas':
      p['21'] = { class_type: 'BasicScheduler', inputs: { scheduler: c.scheduler, steps: c.steps, denoise: 1, model: ['4', 0] } };
      p['20'] = { class_type: 'SplitSigmas', inputs: { step: c.step, sigmas: ['21', 0] } };
      sigmas = ['20', c.output === 'low' ? 1 : 0];
      break;
    case 'FlipSigmas':
      p['21'] = { class_type: 'BasicScheduler', inputs: { scheduler: c.scheduler, steps: c.steps, denoise: 1, model: ['4', 0] } };
      p['20'] = { class_type: 'FlipSigmas', inputs: { sigmas: ['21', 0] } };
      break;
    default:
      throw new Error(`no prompt for ${c.node}`);
  }
  p['10'] = { class_type: 'RandomNoise', inputs: { noise_seed: 42 } };
  p['11'] = { class_type: 'CFGGuider', inputs: { cfg, model: ['4', 0], positive: ['6', 0], negative: ['7', 0] } };
  p['12'] = { class_type: 'KSamplerSelect', inputs: { sampler_name: c.sampler } };
  p['3'] = { class_type: 'SamplerCustomAdvanced', inputs: { noise: ['10', 0], guider: ['11', 0], sampler: ['12', 0], sigmas, latent_image: ['5', 0] } };
  return p;
}
