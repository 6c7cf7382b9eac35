"""Reference runs on the tiny folders: loops written from diffusers' StableDiffusionPipeline,
StableDiffusionImg2ImgPipeline, StableDiffusionXLPipeline and StableDiffusion3Pipeline (`__call__`,
`encode_prompt`, `prepare_latents`, `rescale_noise_cfg`, VAE scaling), run on the torch modules of parts.py (the
same weights as the ONNX files), writing test/fixtures/sd/ref/<run>/ (see README.md for every file).

    /usr/bin/python3 tools/sdtiny/reference.py [run ...]      # default: all runs

Conventions (what a runner must reproduce):
- Loops are float32. The initial noise z (noise.npy) is standard normal from torch.Generator().manual_seed(seed);
  latents = z * scheduler.init_noise_sigma (SD / SDXL; SD3 uses z as is).
- CFG: the model runs on the batch [uncond, cond] (negative first); guided = u + g * (c - u).
  guidance_rescale r > 0: guided = r * guided * std(c) / std(guided) + (1 - r) * guided, std over (C, H, W) per
  item with Bessel's correction (torch.std).
- The UNet timestep is a 0-d tensor (scalar) of the scheduler's timestep value, converted to the model's float
  type; the SD3 transformer's is [batch] float (sigma * 1000).
- Decode: SD / SDXL image = vae_decoder(latent / scaling_factor); SD3 image = vae_decoder(latent / scaling_factor
  + shift_factor). image.png = round(clamp(image / 2 + 0.5, 0, 1) * 255).
- The float16 folder (tiny-sdxl): torch computes in float32 with the float16-rounded weights; every model input
  and output is rounded to float16 (what crosses an fp16 ONNX graph's boundary); the loop stays float32.
"""
import json
import os
import sys

import numpy as np
import torch
from PIL import Image

import parts
import schedulers
from clip_reference import ClipTokenizer
from t5_reference import T5Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SD = os.path.join(ROOT, 'test', 'fixtures', 'sd')
REF = os.path.join(SD, 'ref')

RUNS = {
    'sd15_ddim': dict(folder='tiny-sd15', pipeline='sd', scheduler='DDIM', steps=10, cfg=7.5, seed=11,
                      prompt='a photo of an astronaut riding a horse on mars', negative=''),
    'sd15_dpmpp2m': dict(folder='tiny-sd15', pipeline='sd', scheduler='DPMSolverPP2M', steps=12, cfg=5.0, seed=12,
                         prompt='a red fox in a forest, oil painting, golden hour', negative='blurry, low quality'),
    'sd15_euler_96x64': dict(folder='tiny-sd15', pipeline='sd', scheduler='Euler', steps=8, cfg=7.5, seed=13,
                             width=96, height=64, prompt='a castle on a cliff at sunset, matte painting',
                             negative=None),
    'sd15_img2img': dict(folder='tiny-sd15', pipeline='img2img', scheduler='DDIM', steps=10, cfg=7.5, seed=14,
                         strength=0.6, prompt='a watercolor of a sailboat on a lake', negative=''),
    'sd2v_ddim_rescale': dict(folder='tiny-sd2v', pipeline='sd', scheduler='DDIM', steps=10, cfg=6.0, seed=21,
                              guidance_rescale=0.7, prompt='a lighthouse in the snow at night, digital art!',
                              negative=None),
    'sdxl_euler': dict(folder='tiny-sdxl', pipeline='sdxl', scheduler='Euler', steps=8, cfg=5.0, seed=31,
                       prompt='a cat wearing sunglasses, studio photograph, highly detailed', negative=None),
    'sd3_flow': dict(folder='tiny-sd3', pipeline='sd3', scheduler='FlowMatchEuler', steps=8, cfg=7.0, seed=41,
                     max_sequence_length=256, prompt='a robot reading a book in a library, concept art',
                     negative=None),
    'sd3_flow_noT5': dict(folder='tiny-sd3-not5', pipeline='sd3', scheduler='FlowMatchEuler', steps=8, cfg=7.0,
                          seed=41, max_sequence_length=256,
                          prompt='a robot reading a book in a library, concept art', negative=None),
}

SCHEDULER_DEFAULTS = {
    # __init__ defaults of the diffusers classes (the keys from_config fills in when the folder's config, written
    # for another class, lacks them)
    'DDIM': dict(num_train_timesteps=1000, beta_start=0.0001, beta_end=0.02, beta_schedule='linear',
                 trained_betas=None, clip_sample=True, set_alpha_to_one=True, steps_offset=0,
                 prediction_type='epsilon', thresholding=False, dynamic_thresholding_ratio=0.995,
                 clip_sample_range=1.0, sample_max_value=1.0, timestep_spacing='leading', rescale_betas_zero_snr=False),
    'Euler': dict(num_train_timesteps=1000, beta_start=0.0001, beta_end=0.02, beta_schedule='linear',
                  trained_betas=None, prediction_type='epsilon', interpolation_type='linear', use_karras_sigmas=False,
                  use_exponential_sigmas=False, use_beta_sigmas=False, sigma_min=None, sigma_max=None,
                  timestep_spacing='linspace', timestep_type='discrete', steps_offset=0, rescale_betas_zero_snr=False,
                  final_sigmas_type='zero'),
    'DPMSolverPP2M': dict(num_train_timesteps=1000, beta_start=0.0001, beta_end=0.02, beta_schedule='linear',
                          trained_betas=None, solver_order=2, prediction_type='epsilon', thresholding=False,
                          dynamic_thresholding_ratio=0.995, sample_max_value=1.0, algorithm_type='dpmsolver++',
                          solver_type='midpoint', lower_order_final=True, euler_at_final=False,
                          use_karras_sigmas=False, use_exponential_sigmas=False, use_beta_sigmas=False,
                          use_lu_lambdas=False, use_flow_sigmas=False, flow_shift=1.0, final_sigmas_type='zero',
                          lambda_min_clipped=float('-inf'), variance_type=None, timestep_spacing='linspace',
                          steps_offset=0, rescale_betas_zero_snr=False, use_dynamic_shifting=False,
                          time_shift_type='exponential'),
    'FlowMatchEuler': dict(num_train_timesteps=1000, shift=1.0, use_dynamic_shifting=False, base_shift=0.5,
                           max_shift=1.15, base_image_seq_len=256, max_image_seq_len=4096, invert_sigmas=False,
                           shift_terminal=None, use_karras_sigmas=False, use_exponential_sigmas=False,
                           use_beta_sigmas=False, time_shift_type='exponential', stochastic_sampling=False),
}
CLASSES = {'DDIM': schedulers.DDIM, 'Euler': schedulers.Euler, 'DPMSolverPP2M': schedulers.DPMSolverPP2M,
           'FlowMatchEuler': schedulers.FlowMatchEuler}


def read_json(path):
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def effective_config(folder: str, kind: str) -> dict:
    """`<Class>.from_config(folder's scheduler config)`: the class's keys, from the file where present."""
    cfg = read_json(os.path.join(SD, folder, 'scheduler', 'scheduler_config.json'))
    out = dict(SCHEDULER_DEFAULTS[kind])
    for k in out:
        if k in cfg:
            out[k] = cfg[k]
    out['_class_name'] = CLASSES[kind].name
    return out


def fp16(x: torch.Tensor) -> torch.Tensor:
    return x.half().float()


def clip_ids(folder: str, sub: str, text: str) -> list:
    tdir = os.path.join(SD, folder, sub)
    tok = ClipTokenizer(tdir)
    cfg = read_json(os.path.join(tdir, 'tokenizer_config.json'))
    if cfg['pad_token'] == '!':
        ids, _ = tok.encode(text, pad_id=tok.vocab['!'], split_specials={'!': tok.vocab['!']})
    else:
        ids, _ = tok.encode(text)
    return ids


class Run:
    def __init__(self, name: str, spec: dict):
        self.name, self.spec = name, spec
        self.folder = spec['folder']
        self.half = parts.SPECS.get(self.folder.replace('-not5', ''), {}).get('fp16', False)
        self.files = {}
        self.record = {}
        self.dir = os.path.join(REF, name)
        os.makedirs(self.dir, exist_ok=True)

    def io(self, x):
        return fp16(x) if self.half else x

    def save(self, fname: str, array, what: str):
        arr = np.ascontiguousarray(np.asarray(array, dtype=np.float32))
        np.save(os.path.join(self.dir, fname), arr)
        self.files[fname] = {'shape': list(arr.shape), 'dtype': 'float32', 'what': what}


def dumps(obj, indent: int = 0) -> str:
    """JSON with one level of indentation per depth, lists of scalars on one line."""
    pad = '  ' * (indent + 1)
    if isinstance(obj, dict):
        items = [f'{pad}{json.dumps(k)}: {dumps(v, indent + 1)}' for k, v in obj.items()]
        return '{\n' + ',\n'.join(items) + '\n' + '  ' * indent + '}' if items else '{}'
    if isinstance(obj, list) and any(isinstance(v, (dict, list)) for v in obj):
        return '[\n' + ',\n'.join(pad + dumps(v, indent + 1) for v in obj) + '\n' + '  ' * indent + ']'
    return json.dumps(obj, ensure_ascii=False)


def rescale_noise_cfg(guided, cond, r):
    std_c = cond.std(dim=list(range(1, cond.ndim)), keepdim=True)
    std_g = guided.std(dim=list(range(1, guided.ndim)), keepdim=True)
    return r * (guided * (std_c / std_g)) + (1 - r) * guided


def to_png(image: torch.Tensor, path: str) -> None:
    x = (image / 2 + 0.5).clamp(0, 1)[0].permute(1, 2, 0).numpy()
    Image.fromarray((x * 255).round().astype(np.uint8)).save(path)


def make_input_png(path: str) -> None:
    """The img2img input: a 64x64 procedural picture (sky gradient, sun disc, sea, a triangle sail)."""
    y, x = np.mgrid[0:64, 0:64].astype(np.float32)
    img = np.zeros((64, 64, 3), np.float32)
    img[..., 0] = 0.35 + 0.4 * y / 63
    img[..., 1] = 0.55 + 0.25 * y / 63
    img[..., 2] = 0.95 - 0.2 * y / 63
    sea = y > 40
    img[sea] = [0.1, 0.3, 0.55]
    img[((x - 46) ** 2 + (y - 16) ** 2) < 64] = [1.0, 0.85, 0.3]
    sail = (y > 14) & (y < 40) & (x > 20) & (x < 20 + (y - 14) * 0.7)
    img[sail] = [0.97, 0.97, 0.95]
    img[(y >= 40) & (y < 44) & (x > 14) & (x < 42)] = [0.4, 0.2, 0.1]
    Image.fromarray((img * 255).round().astype(np.uint8)).save(path)


def encode_sd(run: Run, te, text: str):
    ids = clip_ids(run.folder, 'tokenizer', text)
    with torch.no_grad():
        out = te(torch.tensor([ids]))[0]
    return ids, out


def denoise(run: Run, sched, latents, model_fn, cfg: float, rescale: float = 0.0, start: int = 0):
    """The shared loop over schedule indices start..end: CFG on [uncond, cond], optional guidance rescale,
    scheduler step; records the trajectory and the guided outputs."""
    traj = [latents.clone()]
    guided_all = []
    for i in range(start, len(sched.timesteps)):
        x_in = sched.scale(torch.cat([latents, latents]), i)
        with torch.no_grad():
            out = model_fn(x_in, i)
        u, c = out.chunk(2)
        guided = u + cfg * (c - u)
        if rescale > 0:
            guided = rescale_noise_cfg(guided, c, rescale)
        guided_all.append(guided.clone())
        latents = sched.step(guided, i, latents)
        traj.append(latents.clone())
    run.save('trajectory.npy', torch.stack(traj)[:, 0], 'latents before the first step (= initial latents) and '
             'after each step, [steps run + 1, C, h, w]')
    run.save('guided.npy', torch.stack(guided_all)[:, 0], 'guided model output (after CFG / rescale) fed to the '
             'scheduler at each step, [steps run, C, h, w]')
    return latents


def run_sd(run: Run) -> None:
    s = run.spec
    folder = run.folder
    kind = s['scheduler']
    cfg = effective_config(folder, kind)
    sched = CLASSES[kind](cfg, s['steps'])
    te = parts.make(folder, 'text_encoder')
    unet = parts.make(folder, 'unet')
    enc, dec = parts.make(folder, 'vae')
    vae_cfg = read_json(os.path.join(SD, folder, 'vae_decoder', 'config.json'))
    sf = vae_cfg['scaling_factor']
    w, h = s.get('width', 64), s.get('height', 64)
    neg_text = s['negative'] if s['negative'] is not None else ''
    ids, pe = encode_sd(run, te, s['prompt'])
    nids, ne = encode_sd(run, te, neg_text)
    run.save('prompt_embeds.npy', pe, 'text_encoder last_hidden_state of the prompt ids, [1, 77, hidden]')
    run.save('negative_prompt_embeds.npy', ne, 'the same for the negative prompt ("" when none)')
    run.record['input_ids'] = ids
    run.record['negative_input_ids'] = nids
    ctx = torch.cat([ne, pe])
    g = torch.Generator().manual_seed(s['seed'])
    shape = (1, 4, h // 8, w // 8)
    timesteps = sched.timesteps
    start = 0
    if run.spec['pipeline'] == 'img2img':
        inp = os.path.join(run.dir, 'input.png')
        make_input_png(inp)
        run.files['input.png'] = {'what': 'img2img input image, 64x64 RGB (made by make_input_png)'}
        arr = np.array(Image.open(inp).convert('RGB')).astype(np.float32) / 255.0
        image = torch.from_numpy(arr).permute(2, 0, 1)[None] * 2 - 1
        with torch.no_grad():
            params = enc(image)[0]
        run.save('latent_parameters.npy', params, 'vae_encoder output for input.png (preprocessed to [-1, 1] '
                 'NCHW): [mean | logvar] on channels, [1, 2C, h, w]')
        init = sf * params[:, :4]  # sample_mode "argmax": the distribution's mode (mean)
        n = s['steps']
        start = max(n - min(int(n * s['strength']), n), 0)
        z = torch.randn(shape, generator=g)
        run.save('noise.npy', z, 'standard normal noise for add_noise, [1, C, h, w]')
        latents = sched.add_noise(init, z, int(timesteps[start]))
        run.save('init_latents.npy', latents, 'scaling_factor * mean, noised to timesteps[t_start]: '
                 'sqrt(a) * x + sqrt(1 - a) * noise, a = alphas_cumprod[timesteps[t_start]]')
        run.record.update({'strength': s['strength'], 't_start': start, 'latent_timestep': int(timesteps[start]),
                           'vae_encode_mode': 'argmax (latent_dist.mode() = mean); diffusers samples by default',
                           'timesteps_run': [float(t) for t in timesteps[start:]]})
    else:
        z = torch.randn(shape, generator=g)
        run.save('noise.npy', z, 'standard normal initial noise z, [1, C, h, w]; latents = z * init_noise_sigma')
        latents = z * sched.init_noise_sigma

    def model_fn(x_in, i):
        return unet(x_in, torch.tensor(float(timesteps[i])), ctx)[0]

    latents = denoise(run, sched, latents, model_fn, s['cfg'], s.get('guidance_rescale', 0.0), start)
    with torch.no_grad():
        image = dec(latents / sf)[0]
    finish(run, sched, cfg, latents, image, w, h, timesteps, sched.sigmas)


def finish(run: Run, sched, cfg: dict, latents, image, w, h, timesteps, sigmas, extra=None) -> None:
    s = run.spec
    run.save('latent.npy', latents, 'final latent (before 1/scaling_factor), [1, C, h, w]')
    run.save('image.npy', image, 'vae_decoder output (not clamped), [1, 3, H, W]')
    to_png(image, os.path.join(run.dir, 'image.png'))
    run.files['image.png'] = {'what': 'round(clamp(image / 2 + 0.5, 0, 1) * 255), RGB 8-bit'}
    rec = {
        'run': run.name, 'folder': f'test/fixtures/sd/{run.folder}', 'pipeline': {
            'sd': 'StableDiffusionPipeline', 'img2img': 'StableDiffusionImg2ImgPipeline',
            'sdxl': 'StableDiffusionXLPipeline', 'sd3': 'StableDiffusion3Pipeline'}[s['pipeline']],
        'prompt': s['prompt'], 'negative_prompt': s['negative'], 'num_inference_steps': s['steps'],
        'guidance_scale': s['cfg'], 'guidance_rescale': s.get('guidance_rescale', 0.0), 'width': w, 'height': h,
        'seed': s['seed'], 'noise': 'torch.randn(shape, generator=torch.Generator().manual_seed(seed)) (noise.npy)',
        'scheduler': {'class': cfg['_class_name'], 'config': {k: v for k, v in cfg.items() if k != '_class_name'},
                      'from': f'{cfg["_class_name"]}.from_config(test/fixtures/sd/{run.folder}/scheduler/'
                              'scheduler_config.json): the class defaults, overridden by the keys the file has'},
        'timesteps': [float(t) for t in timesteps],
        'timestep_dtype_fed_to_model': 'float16' if run.half else 'float32',
        'sigmas': [float(x) for x in sigmas] if sigmas is not None else None,
        'init_noise_sigma': float(sched.init_noise_sigma),
        'loop_dtype': 'float32',
        'model_io_dtype': 'float16 (rounded at every model input and output)' if run.half else 'float32',
        **sched.record(), **run.record, **(extra or {}),
        'files': run.files,
    }
    if rec['scheduler']['config'].get('lambda_min_clipped') == float('-inf'):
        rec['scheduler']['config']['lambda_min_clipped'] = '-inf'
    with open(os.path.join(run.dir, 'run.json'), 'w', encoding='utf-8') as f:
        f.write(dumps(rec) + '\n')


def run_sdxl(run: Run) -> None:
    s = run.spec
    folder = run.folder
    cfg = effective_config(folder, s['scheduler'])
    sched = CLASSES[s['scheduler']](cfg, s['steps'])
    te1, te2 = parts.make(folder, 'text_encoder'), parts.make(folder, 'text_encoder_2')
    unet = parts.make(folder, 'unet')
    _, dec = parts.make(folder, 'vae')
    sf = read_json(os.path.join(SD, folder, 'vae_decoder', 'config.json'))['scaling_factor']
    mi = read_json(os.path.join(SD, folder, 'model_index.json'))
    w, h = s.get('width', 64), s.get('height', 64)
    ids1 = clip_ids(folder, 'tokenizer', s['prompt'])
    ids2 = clip_ids(folder, 'tokenizer_2', s['prompt'])
    with torch.no_grad():
        o1 = [run.io(x) for x in te1(torch.tensor([ids1]))]
        o2 = [run.io(x) for x in te2(torch.tensor([ids2]))]
    # text_encoder outputs (last_hidden_state, pooler_output, hs.0, hs.1, hs.2); text_encoder_2 outputs
    # (text_embeds, last_hidden_state, hs.0, hs.1, hs.2): prompt embeds use hidden_states[-2] of both
    pe = torch.cat([o1[-2], o2[-2]], dim=-1)
    pooled = o2[0]
    assert s['negative'] is None and mi['force_zeros_for_empty_prompt']
    ne, npooled = torch.zeros_like(pe), torch.zeros_like(pooled)
    run.save('prompt_embeds.npy', pe, 'concat(text_encoder hidden_states.1, text_encoder_2 hidden_states.1) on the '
             'last axis (hidden_states[-2] of each), [1, 77, 32 + 48]')
    run.save('negative_prompt_embeds.npy', ne, 'zeros: negative_prompt None and force_zeros_for_empty_prompt')
    run.save('pooled_prompt_embeds.npy', pooled, 'text_encoder_2 text_embeds, [1, 40]')
    run.save('negative_pooled_prompt_embeds.npy', npooled, 'zeros (as negative_prompt_embeds)')
    time_ids = torch.tensor([[h, w, 0, 0, h, w]], dtype=torch.float32)
    add_time_ids = torch.cat([time_ids, time_ids])
    add_text = torch.cat([npooled, pooled])
    run.save('add_time_ids.npy', add_time_ids, 'UNet time_ids for the batch [uncond, cond]: original_size (h, w) + '
             'crops_coords_top_left (0, 0) + target_size (h, w)')
    run.save('add_text_embeds.npy', add_text, 'UNet text_embeds for the batch [uncond, cond]')
    run.record.update({'input_ids': ids1, 'input_ids_2': ids2, 'force_zeros_for_empty_prompt': True,
                       'original_size': [h, w], 'crops_coords_top_left': [0, 0], 'target_size': [h, w]})
    ctx = torch.cat([ne, pe])
    g = torch.Generator().manual_seed(s['seed'])
    z = torch.randn((1, 4, h // 8, w // 8), generator=g)
    run.save('noise.npy', z, 'standard normal initial noise z, [1, C, h, w]; latents = z * init_noise_sigma')
    latents = z * sched.init_noise_sigma

    def model_fn(x_in, i):
        t = run.io(torch.tensor(float(sched.timesteps[i])))
        return run.io(unet(run.io(x_in), t, ctx, run.io(add_text), run.io(add_time_ids))[0])

    latents = denoise(run, sched, latents, model_fn, s['cfg'])
    with torch.no_grad():
        image = run.io(dec(run.io(latents / sf))[0])
    finish(run, sched, cfg, latents, image, w, h, sched.timesteps, sched.sigmas,
           {'vae_note': 'force_upcast is true in the VAE config; the ONNX VAE is float16 anyway, so the reference '
                        'decodes with float16 inputs/outputs (diffusers would upcast a torch VAE to float32)'})


def run_sd3(run: Run) -> None:
    s = run.spec
    folder = run.folder
    cfg = effective_config(folder, s['scheduler'])
    sched = CLASSES[s['scheduler']](cfg, s['steps'])
    mi = read_json(os.path.join(SD, folder, 'model_index.json'))
    has_t5 = mi.get('text_encoder_3', [None, None])[0] is not None
    te1, te2 = parts.make('tiny-sd3', 'text_encoder'), parts.make('tiny-sd3', 'text_encoder_2')
    t5_json = read_json(os.path.join(SD, 'tiny-sd3', 'tokenizer_3', 'tokenizer.json'))
    t5tok = T5Tokenizer(t5_json)
    t5 = parts.make('tiny-sd3', 'text_encoder_3', t5_vocab=len(t5_json['model']['vocab']))
    tcfg = read_json(os.path.join(SD, folder, 'transformer', 'config.json'))
    transformer = parts.make('tiny-sd3', 'transformer')
    _, dec = parts.make('tiny-sd3', 'vae')
    vcfg = read_json(os.path.join(SD, folder, 'vae_decoder', 'config.json'))
    sf, shift = vcfg['scaling_factor'], vcfg['shift_factor']
    L = s['max_sequence_length']
    w, h = s.get('width', 64), s.get('height', 64)

    def encode(text):
        i1 = clip_ids(folder, 'tokenizer', text)
        i2 = clip_ids(folder, 'tokenizer_2', text)
        with torch.no_grad():
            o1 = te1(torch.tensor([i1]))
            o2 = te2(torch.tensor([i2]))
            # (text_embeds, last_hidden_state, hs.0, hs.1, hs.2): embeds = hidden_states[-2], pooled = text_embeds
            clip = torch.cat([o1[-2], o2[-2]], dim=-1)
            pooled = torch.cat([o1[0], o2[0]], dim=-1)
            if has_t5:
                i3, _ = t5tok.encode(text, L)
                t5e = t5(torch.tensor([i3]))[0]
            else:
                i3 = None
                t5e = torch.zeros(1, L, tcfg['joint_attention_dim'])
        clip = torch.nn.functional.pad(clip, (0, t5e.shape[-1] - clip.shape[-1]))
        return torch.cat([clip, t5e], dim=-2), pooled, (i1, i2, i3)

    neg_text = s['negative'] if s['negative'] is not None else ''
    pe, pooled, ids = encode(s['prompt'])
    ne, npooled, nids = encode(neg_text)
    note = ('concat on the sequence axis of [CLIP part, T5 part]: CLIP part = concat(text_encoder hidden_states.1, '
            'text_encoder_2 hidden_states.1) on the last axis (32 + 48 = 80) zero-padded to joint_attention_dim 96, '
            f'77 tokens; T5 part = text_encoder_3 last_hidden_state of the {L}-token ids' if has_t5 else
            f'; T5 part = zeros [{L}, 96] (no text_encoder_3: diffusers _get_t5_prompt_embeds returns zeros of '
            f'(batch, max_sequence_length, transformer.config.joint_attention_dim))')
    if not has_t5:
        note = ('concat on the sequence axis of [CLIP part, T5 part]: CLIP part = concat(text_encoder '
                'hidden_states.1, text_encoder_2 hidden_states.1) on the last axis (32 + 48 = 80) zero-padded to '
                'joint_attention_dim 96, 77 tokens' + note)
    run.save('prompt_embeds.npy', pe, note + f', [1, {77 + L}, 96]')
    run.save('negative_prompt_embeds.npy', ne, 'the same for the negative prompt ("")')
    run.save('pooled_prompt_embeds.npy', pooled, 'concat(text_encoder text_embeds, text_encoder_2 text_embeds), [1, 80]')
    run.save('negative_pooled_prompt_embeds.npy', npooled, 'the same for the negative prompt')
    run.record.update({'input_ids': ids[0], 'input_ids_2': ids[1], 'input_ids_3': ids[2],
                       'negative_input_ids': nids[0], 'negative_input_ids_2': nids[1], 'negative_input_ids_3': nids[2],
                       'max_sequence_length': L, 'text_encoder_3': 'present' if has_t5 else 'absent (zeros)'})
    ctx = torch.cat([ne, pe])
    pool = torch.cat([npooled, pooled])
    g = torch.Generator().manual_seed(s['seed'])
    z = torch.randn((1, tcfg['in_channels'], h // 8, w // 8), generator=g)
    run.save('noise.npy', z, 'standard normal initial noise z, [1, C, h, w]; latents = z (no init_noise_sigma)')

    def model_fn(x_in, i):
        t = torch.tensor(float(sched.timesteps[i])).expand(2)
        return transformer(x_in, ctx, pool, t)[0]

    latents = denoise(run, sched, z.clone(), model_fn, s['cfg'])
    with torch.no_grad():
        image = dec(latents / sf + shift)[0]
    finish(run, sched, cfg, latents, image, w, h, sched.timesteps, sched.sigmas)


def main(argv) -> None:
    names = argv or list(RUNS)
    for name in names:
        spec = RUNS[name]
        run = Run(name, spec)
        {'sd': run_sd, 'img2img': run_sd, 'sdxl': run_sdxl, 'sd3': run_sd3}[spec['pipeline']](run)
        lat = np.load(os.path.join(run.dir, 'latent.npy'))
        img = np.load(os.path.join(run.dir, 'image.npy'))
        print(f'{name}: latent std {lat.std():.3f} max {abs(lat).max():.3f}; image mean {img.mean():.3f} '
              f'std {img.std():.3f}, clipped {np.mean(np.abs(img) > 1):.1%}')


if __name__ == '__main__':
    main(sys.argv[1:])
