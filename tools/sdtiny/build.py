"""Builds the tiny model folders under test/fixtures/sd/ in the layout `optimum-cli export onnx` writes for a
diffusers pipeline (see README.md for the contract of each folder).

    /usr/bin/python3 tools/sdtiny/build.py [tiny-sd15 tiny-sd2v tiny-sdxl tiny-sd3 tiny-sd3-not5 tiny-fp16-overflow]

Per folder: model_index.json (the diffusers pipeline config), scheduler/scheduler_config.json, one sub-folder per
part with model.onnx (+ model.onnx_data for the UNet / transformer, except tiny-sd2v whose UNet is one file) and
config.json (the part's diffusers or transformers config as the export saves it), and the tokenizer folders.
"""
import json
import os
import shutil
import sys

import torch

import clip_bpe
import onnx_io
import parts

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'sd')
DIFFUSERS_VERSION = '0.40.0.dev0'  # the diffusers source these configs were modelled on
TRANSFORMERS_VERSION = '4.46.1'

B = {0: 'batch_size'}
BS = {0: 'batch_size', 1: 'sequence_length'}


def write_json(path: str, obj) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + '\n')


# ---------------------------------------------------------------------------------------------- configs

def scheduler_config(kind: str) -> dict:
    """scheduler_config.json as current diffusers saves the scheduler of each real model (all __init__ keys of
    the class plus the keys the original config carried for other classes, e.g. clip_sample / skip_prk_steps)."""
    base = {'_diffusers_version': DIFFUSERS_VERSION, 'beta_end': 0.012, 'beta_schedule': 'scaled_linear',
            'beta_start': 0.00085, 'num_train_timesteps': 1000, 'trained_betas': None}
    if kind == 'sd15':  # runwayml/stable-diffusion-v1-5
        return {**base, '_class_name': 'PNDMScheduler', 'clip_sample': False, 'prediction_type': 'epsilon',
                'set_alpha_to_one': False, 'skip_prk_steps': True, 'steps_offset': 1, 'timestep_spacing': 'leading'}
    if kind == 'sd2v':  # SD 2.1 (768-v) DDIM config, switched to the zero-terminal-SNR fine-tune setup
        return {**base, '_class_name': 'DDIMScheduler', 'clip_sample': False, 'clip_sample_range': 1.0,
                'dynamic_thresholding_ratio': 0.995, 'prediction_type': 'v_prediction',
                'rescale_betas_zero_snr': True, 'sample_max_value': 1.0, 'set_alpha_to_one': False,
                'skip_prk_steps': True, 'steps_offset': 1, 'thresholding': False, 'timestep_spacing': 'trailing'}
    if kind == 'sdxl':  # stabilityai/stable-diffusion-xl-base-1.0
        return {**base, '_class_name': 'EulerDiscreteScheduler', 'clip_sample': False, 'final_sigmas_type': 'zero',
                'interpolation_type': 'linear', 'prediction_type': 'epsilon', 'rescale_betas_zero_snr': False,
                'sample_max_value': 1.0, 'set_alpha_to_one': False, 'sigma_max': None, 'sigma_min': None,
                'skip_prk_steps': True, 'steps_offset': 1, 'timestep_spacing': 'leading', 'timestep_type': 'discrete',
                'use_beta_sigmas': False, 'use_exponential_sigmas': False, 'use_karras_sigmas': False}
    if kind == 'sd3':  # stabilityai/stable-diffusion-3-medium-diffusers
        return {'_class_name': 'FlowMatchEulerDiscreteScheduler', '_diffusers_version': DIFFUSERS_VERSION,
                'base_image_seq_len': 256, 'base_shift': 0.5, 'invert_sigmas': False, 'max_image_seq_len': 4096,
                'max_shift': 1.15, 'num_train_timesteps': 1000, 'shift': 3.0, 'shift_terminal': None,
                'stochastic_sampling': False, 'time_shift_type': 'exponential', 'use_beta_sigmas': False,
                'use_dynamic_shifting': False, 'use_exponential_sigmas': False, 'use_karras_sigmas': False}
    raise ValueError(kind)


def clip_config(spec: dict, projection: bool, dtype: str, hidden_states: bool) -> dict:
    """A transformers CLIPTextConfig as the Optimum export saves it (with export_model_type, and
    output_hidden_states for SDXL / SD3, which the exporter sets before saving)."""
    c = {
        'architectures': ['CLIPTextModelWithProjection' if projection else 'CLIPTextModel'],
        'attention_dropout': 0.0, 'bos_token_id': 0, 'dropout': 0.0, 'eos_token_id': 2,
        'export_model_type': 'clip-text-with-projection' if projection else 'clip-text',
        'hidden_act': spec['act'], 'hidden_size': spec['hidden'], 'initializer_factor': 1.0,
        'initializer_range': 0.02, 'intermediate_size': spec['inter'], 'layer_norm_eps': 1e-05,
        'max_position_embeddings': 77, 'model_type': 'clip_text_model', 'num_attention_heads': spec['heads'],
        'num_hidden_layers': spec['layers'], 'pad_token_id': 1,
        'projection_dim': spec.get('projection') or spec['hidden'], 'torch_dtype': dtype,
        'transformers_version': TRANSFORMERS_VERSION, 'vocab_size': parts.CLIP_VOCAB,
    }
    if hidden_states:
        c['output_hidden_states'] = True
    return c


def t5_config(spec: dict, vocab: int) -> dict:
    return {
        'architectures': ['T5EncoderModel'], 'classifier_dropout': 0.0, 'd_ff': spec['d_ff'],
        'd_kv': spec['d_model'] // spec['heads'], 'd_model': spec['d_model'], 'decoder_start_token_id': 0,
        'dense_act_fn': 'gelu_new', 'dropout_rate': 0.1, 'eos_token_id': 1, 'export_model_type': 't5-encoder',
        'feed_forward_proj': 'gated-gelu', 'initializer_factor': 1.0, 'is_encoder_decoder': True,
        'is_gated_act': True, 'layer_norm_epsilon': 1e-06, 'model_type': 't5', 'num_decoder_layers': spec['layers'],
        'num_heads': spec['heads'], 'num_layers': spec['layers'], 'output_past': True, 'pad_token_id': 0,
        'relative_attention_max_distance': 128, 'relative_attention_num_buckets': 32, 'tie_word_embeddings': False,
        'torch_dtype': 'float32', 'transformers_version': TRANSFORMERS_VERSION, 'use_cache': True,
        'vocab_size': vocab,
    }


def unet_config(spec: dict, sdxl: bool = False, v2: bool = False) -> dict:
    """UNet2DConditionModel config with every __init__ key (diffusers saves them all). The ones that matter to a
    runner: in_channels, out_channels, sample_size (latent size of the default image), cross_attention_dim,
    addition_embed_type ('text_time' = SDXL inputs text_embeds / time_ids), addition_time_embed_dim,
    projection_class_embeddings_input_dim, time_cond_proj_dim (null: no timestep_cond input)."""
    c0, c1 = spec['ch']
    return {
        '_class_name': 'UNet2DConditionModel', '_diffusers_version': DIFFUSERS_VERSION, 'act_fn': 'silu',
        'addition_embed_type': 'text_time' if sdxl else None, 'addition_embed_type_num_heads': 64,
        'addition_time_embed_dim': spec.get('add_time_dim'), 'attention_head_dim': 4, 'attention_type': 'default',
        'block_out_channels': [c0, c1], 'center_input_sample': False, 'class_embed_type': None,
        'class_embeddings_concat': False, 'conv_in_kernel': 3, 'conv_out_kernel': 3,
        'cross_attention_dim': spec['ctx'], 'cross_attention_norm': None,
        'down_block_types': ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'], 'downsample_padding': 1,
        'dropout': 0.0, 'dual_cross_attention': False, 'encoder_hid_dim': None, 'encoder_hid_dim_type': None,
        'flip_sin_to_cos': True, 'freq_shift': 0, 'in_channels': 4, 'layers_per_block': 1,
        'mid_block_only_cross_attention': None, 'mid_block_scale_factor': 1,
        'mid_block_type': 'UNetMidBlock2DCrossAttn', 'norm_eps': 1e-05, 'norm_num_groups': 8,
        'num_attention_heads': None, 'num_class_embeds': None, 'only_cross_attention': False, 'out_channels': 4,
        'projection_class_embeddings_input_dim': 6 * spec['add_time_dim'] + spec['text_embeds'] if sdxl else None,
        'resnet_out_scale_factor': 1.0, 'resnet_skip_time_act': False, 'resnet_time_scale_shift': 'default',
        'reverse_transformer_layers_per_block': None, 'sample_size': 8 if not sdxl else 8,
        'time_cond_proj_dim': None, 'time_embedding_act_fn': None, 'time_embedding_dim': None,
        'time_embedding_type': 'positional', 'timestep_post_act': None, 'transformer_layers_per_block': 1,
        'up_block_types': ['CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'], 'upcast_attention': v2,
        'use_linear_projection': sdxl or v2,
    }


def vae_config(spec: dict, force_upcast: bool = True, sd3: bool = False) -> dict:
    """AutoencoderKL config (the same file in vae_encoder/ and vae_decoder/). What matters: latent_channels,
    scaling_factor, shift_factor, block_out_channels (2^(len-1) = 8 is the VAE scale factor), force_upcast."""
    return {
        '_class_name': 'AutoencoderKL', '_diffusers_version': DIFFUSERS_VERSION, 'act_fn': 'silu',
        'block_out_channels': list(spec['ch']), 'down_block_types': ['DownEncoderBlock2D'] * 4,
        'force_upcast': force_upcast, 'in_channels': 3, 'latent_channels': spec['latent'], 'latents_mean': None,
        'latents_std': None, 'layers_per_block': 1, 'mid_block_add_attention': True, 'norm_num_groups': 8,
        'out_channels': 3, 'sample_size': 64, 'scaling_factor': spec['scaling'],
        'shift_factor': spec.get('shift'), 'up_block_types': ['UpDecoderBlock2D'] * 4,
        'use_post_quant_conv': not sd3, 'use_quant_conv': not sd3,
    }


def sd3_transformer_config(spec: dict) -> dict:
    return {
        '_class_name': 'SD3Transformer2DModel', '_diffusers_version': DIFFUSERS_VERSION,
        'attention_head_dim': spec['dim'] // spec['heads'], 'caption_projection_dim': spec['dim'],
        'dual_attention_layers': [], 'in_channels': spec['in_ch'], 'joint_attention_dim': spec['joint'],
        'num_attention_heads': spec['heads'], 'num_layers': spec['layers'], 'out_channels': spec['in_ch'],
        'patch_size': 2, 'pooled_projection_dim': spec['pooled'], 'pos_embed_max_size': spec['pos_max'],
        'qk_norm': None, 'sample_size': 8,
    }


def model_index(cls: str, parts_: dict, extra: dict = None) -> dict:
    mi = {'_class_name': cls, '_diffusers_version': DIFFUSERS_VERSION, 'feature_extractor': [None, None],
          'image_encoder': [None, None], **parts_}
    mi.update(extra or {})
    return mi


# ---------------------------------------------------------------------------------------------- exports

def export_clip(folder: str, name: str, m, fp16: bool) -> None:
    n = len(m.blocks)
    if m.proj is None:
        outs = {'last_hidden_state': BS, 'pooler_output': B}
    else:
        # sic: Optimum's CLIPTextWithProjectionOnnxConfig calls text_embeds' axis 1 'sequence_length' (it is the
        # projection dim); the exported graph keeps that name.
        outs = {'text_embeds': BS, 'last_hidden_state': BS}
    if m.hidden_states:
        outs.update({f'hidden_states.{i}': BS for i in range(n + 1)})
    ids = torch.randint(0, parts.CLIP_VOCAB, (2, 77), generator=torch.Generator().manual_seed(0))
    model = onnx_io.export(m, (ids,), os.path.join(folder, name, 'model.onnx'), {'input_ids': BS}, outs)
    if fp16:
        model = onnx_io.to_float16(model)
    onnx_io.save(model, os.path.join(folder, name, 'model.onnx'))


def export_t5(folder: str, m) -> None:
    ids = torch.randint(0, m.embed.num_embeddings, (2, 256), generator=torch.Generator().manual_seed(0))
    model = onnx_io.export(m, (ids,), os.path.join(folder, 'text_encoder_3', 'model.onnx'), {'input_ids': BS},
                           {'last_hidden_state': BS})
    onnx_io.save(model, os.path.join(folder, 'text_encoder_3', 'model.onnx'))


def export_unet(folder: str, m, spec: dict, fp16: bool, external: bool = True) -> None:
    g = torch.Generator().manual_seed(0)
    args = [torch.randn(2, 4, 8, 8, generator=g), torch.tensor(500.0), torch.randn(2, 77, spec['ctx'], generator=g)]
    inputs = {'sample': {0: 'batch_size', 2: 'height', 3: 'width'}, 'timestep': {}, 'encoder_hidden_states': BS}
    if spec.get('add_time_dim'):
        args += [torch.randn(2, spec['text_embeds'], generator=g), torch.tensor([[64.0, 64, 0, 0, 64, 64]] * 2)]
        inputs.update({'text_embeds': B, 'time_ids': B})
    model = onnx_io.export(m, tuple(args), os.path.join(folder, 'unet', 'model.onnx'), inputs,
                           {'out_sample': {0: 'batch_size', 2: 'height', 3: 'width'}})
    if fp16:
        model = onnx_io.to_float16(model, keep_float32=('/time_proj',))
    onnx_io.save(model, os.path.join(folder, 'unet', 'model.onnx'), external=external)


def export_transformer(folder: str, m, spec: dict) -> None:
    g = torch.Generator().manual_seed(0)
    args = (torch.randn(2, spec['in_ch'], 8, 8, generator=g), torch.randn(2, 333, spec['joint'], generator=g),
            torch.randn(2, spec['pooled'], generator=g), torch.tensor([500.0, 500.0]))
    inputs = {'hidden_states': {0: 'batch_size', 2: 'height', 3: 'width'}, 'encoder_hidden_states': BS,
              'pooled_projections': B, 'timestep': {0: 'step'}}
    model = onnx_io.export(m, args, os.path.join(folder, 'transformer', 'model.onnx'), inputs,
                           {'out_hidden_states': {0: 'batch_size', 2: 'height', 3: 'width'}})
    onnx_io.save(model, os.path.join(folder, 'transformer', 'model.onnx'), external=True)


def export_vae(folder: str, enc, dec, latent: int, fp16: bool) -> None:
    g = torch.Generator().manual_seed(0)
    model = onnx_io.export(enc, (torch.rand(1, 3, 64, 64, generator=g) * 2 - 1,),
                           os.path.join(folder, 'vae_encoder', 'model.onnx'),
                           {'sample': {0: 'batch_size', 2: 'sample_height', 3: 'sample_width'}},
                           {'latent_parameters': {0: 'batch_size', 2: 'sample_height / 8', 3: 'sample_width / 8'}})
    if fp16:
        model = onnx_io.to_float16(model)
    onnx_io.save(model, os.path.join(folder, 'vae_encoder', 'model.onnx'))
    model = onnx_io.export(dec, (torch.randn(1, latent, 8, 8, generator=g),),
                           os.path.join(folder, 'vae_decoder', 'model.onnx'),
                           {'latent_sample': {0: 'batch_size', 2: 'latent_height', 3: 'latent_width'}},
                           {'sample': {0: 'batch_size', 2: 'latent_height * 8', 3: 'latent_width * 8'}})
    if fp16:
        model = onnx_io.to_float16(model)
    onnx_io.save(model, os.path.join(folder, 'vae_decoder', 'model.onnx'))


# ---------------------------------------------------------------------------------------------- folders

def fresh(name: str) -> str:
    folder = os.path.join(OUT, name)
    if os.path.isdir(folder):
        shutil.rmtree(folder)
    os.makedirs(folder)
    return folder


def build_sd(name: str, vocab: dict, merges: list) -> None:
    """tiny-sd15 (PNDM eps config, slow tokenizer) and tiny-sd2v (DDIM v-pred zero-SNR trailing, fast
    tokenizer padding with "!")."""
    folder = fresh(name)
    v2 = name == 'tiny-sd2v'
    spec = parts.SPECS[name]
    write_json(os.path.join(folder, 'model_index.json'), model_index('StableDiffusionPipeline', {
        'requires_safety_checker': False, 'safety_checker': [None, None],
        'scheduler': ['diffusers', 'DDIMScheduler' if v2 else 'PNDMScheduler'],
        'text_encoder': ['transformers', 'CLIPTextModel'], 'tokenizer': ['transformers', 'CLIPTokenizer'],
        'unet': ['diffusers', 'UNet2DConditionModel'], 'vae': ['diffusers', 'AutoencoderKL']}))
    write_json(os.path.join(folder, 'scheduler', 'scheduler_config.json'), scheduler_config('sd2v' if v2 else 'sd15'))
    clip_bpe.write_folder(os.path.join(folder, 'tokenizer'), vocab, merges, pad='bang' if v2 else 'eos', fast=v2)
    te = parts.make(name, 'text_encoder')
    export_clip(folder, 'text_encoder', te, False)
    write_json(os.path.join(folder, 'text_encoder', 'config.json'),
               clip_config(spec['text_encoder'], False, 'float32', False))
    export_unet(folder, parts.make(name, 'unet'), spec['unet'], False, external=not v2)
    write_json(os.path.join(folder, 'unet', 'config.json'), unet_config(spec['unet'], v2=v2))
    enc, dec = parts.make(name, 'vae')
    export_vae(folder, enc, dec, 4, False)
    for p in ('vae_encoder', 'vae_decoder'):
        write_json(os.path.join(folder, p, 'config.json'), vae_config(spec['vae']))


def build_sdxl(vocab: dict, merges: list) -> None:
    name = 'tiny-sdxl'
    folder = fresh(name)
    spec = parts.SPECS[name]
    write_json(os.path.join(folder, 'model_index.json'), model_index('StableDiffusionXLPipeline', {
        'force_zeros_for_empty_prompt': True, 'scheduler': ['diffusers', 'EulerDiscreteScheduler'],
        'text_encoder': ['transformers', 'CLIPTextModel'],
        'text_encoder_2': ['transformers', 'CLIPTextModelWithProjection'],
        'tokenizer': ['transformers', 'CLIPTokenizer'], 'tokenizer_2': ['transformers', 'CLIPTokenizer'],
        'unet': ['diffusers', 'UNet2DConditionModel'], 'vae': ['diffusers', 'AutoencoderKL']}))
    write_json(os.path.join(folder, 'scheduler', 'scheduler_config.json'), scheduler_config('sdxl'))
    clip_bpe.write_folder(os.path.join(folder, 'tokenizer'), vocab, merges, pad='eos')
    clip_bpe.write_folder(os.path.join(folder, 'tokenizer_2'), vocab, merges, pad='bang')
    for p, proj in (('text_encoder', False), ('text_encoder_2', True)):
        export_clip(folder, p, parts.make(name, p), True)
        write_json(os.path.join(folder, p, 'config.json'), clip_config(spec[p], proj, 'float16', True))
    export_unet(folder, parts.make(name, 'unet'), spec['unet'], True)
    write_json(os.path.join(folder, 'unet', 'config.json'), unet_config(spec['unet'], sdxl=True))
    enc, dec = parts.make(name, 'vae')
    export_vae(folder, enc, dec, 4, True)
    for p in ('vae_encoder', 'vae_decoder'):
        write_json(os.path.join(folder, p, 'config.json'), vae_config(spec['vae'], force_upcast=True))


def build_sd3(vocab: dict, merges: list) -> None:
    name = 'tiny-sd3'
    folder = fresh(name)
    spec = parts.SPECS[name]
    write_json(os.path.join(folder, 'model_index.json'), model_index('StableDiffusion3Pipeline', {
        'scheduler': ['diffusers', 'FlowMatchEulerDiscreteScheduler'],
        'text_encoder': ['transformers', 'CLIPTextModelWithProjection'],
        'text_encoder_2': ['transformers', 'CLIPTextModelWithProjection'],
        'text_encoder_3': ['transformers', 'T5EncoderModel'],
        'tokenizer': ['transformers', 'CLIPTokenizer'], 'tokenizer_2': ['transformers', 'CLIPTokenizer'],
        'tokenizer_3': ['transformers', 'T5TokenizerFast'],
        'transformer': ['diffusers', 'SD3Transformer2DModel'], 'vae': ['diffusers', 'AutoencoderKL']}))
    write_json(os.path.join(folder, 'scheduler', 'scheduler_config.json'), scheduler_config('sd3'))
    clip_bpe.write_folder(os.path.join(folder, 'tokenizer'), vocab, merges, pad='eos')
    clip_bpe.write_folder(os.path.join(folder, 'tokenizer_2'), vocab, merges, pad='bang')
    for p in ('text_encoder', 'text_encoder_2'):
        export_clip(folder, p, parts.make(name, p), False)
        write_json(os.path.join(folder, p, 'config.json'), clip_config(spec[p], True, 'float32', True))
    import t5_unigram
    t5 = t5_unigram.load_or_train()
    t5_unigram.write_folder(os.path.join(folder, 'tokenizer_3'), t5)
    export_t5(folder, parts.make(name, 'text_encoder_3', t5_vocab=len(t5['vocab'])))
    write_json(os.path.join(folder, 'text_encoder_3', 'config.json'), t5_config(spec['text_encoder_3'], len(t5['vocab'])))
    export_transformer(folder, parts.make(name, 'transformer'), spec['transformer'])
    write_json(os.path.join(folder, 'transformer', 'config.json'), sd3_transformer_config(spec['transformer']))
    enc, dec = parts.make(name, 'vae')
    export_vae(folder, enc, dec, 16, False)
    for p in ('vae_encoder', 'vae_decoder'):
        write_json(os.path.join(folder, p, 'config.json'), vae_config(spec['vae'], sd3=True))


def build_sd3_not5() -> None:
    """tiny-sd3 without T5: the same files except text_encoder_3/ and tokenizer_3/, and model_index.json marks
    both [null, null] (how diffusers saves a pipeline loaded with text_encoder_3=None)."""
    src = os.path.join(OUT, 'tiny-sd3')
    folder = fresh('tiny-sd3-not5')
    shutil.rmtree(folder)
    shutil.copytree(src, folder, ignore=shutil.ignore_patterns('text_encoder_3', 'tokenizer_3'))
    with open(os.path.join(folder, 'model_index.json')) as f:
        mi = json.load(f)
    mi['text_encoder_3'] = [None, None]
    mi['tokenizer_3'] = [None, None]
    write_json(os.path.join(folder, 'model_index.json'), mi)


def build_overflow() -> None:
    """tiny-fp16-overflow: tiny-sd15's files with a float16 UNet whose output overflows float16 (|x| > 65504)
    for ordinary inputs: the prediction branch is multiplied by 1e6 (out_sample comes out +-Inf, and NaN where
    the overflowed values meet)."""
    src = os.path.join(OUT, 'tiny-sd15')
    folder = fresh('tiny-fp16-overflow')
    shutil.rmtree(folder)
    shutil.copytree(src, folder, ignore=shutil.ignore_patterns('unet', 'vae_encoder'))
    with open(os.path.join(folder, 'model_index.json')) as f:
        mi = json.load(f)
    write_json(os.path.join(folder, 'model_index.json'), mi)
    spec = parts.SPECS['tiny-sd15']['unet']
    m = parts.make('tiny-sd15', 'unet')
    with torch.no_grad():
        m.conv_out.weight.mul_(1e6)
        m.conv_out.bias.mul_(1e6)
    parts.round_fp16(m)
    export_unet(folder, m, spec, True)
    with open(os.path.join(src, 'unet', 'config.json')) as f:
        write_json(os.path.join(folder, 'unet', 'config.json'), json.load(f))


def main(argv) -> None:
    names = argv or ['tiny-sd15', 'tiny-sd2v', 'tiny-sdxl', 'tiny-sd3', 'tiny-sd3-not5', 'tiny-fp16-overflow']
    vocab, merges = clip_bpe.train()
    assert len(vocab) == parts.CLIP_VOCAB, (len(vocab), parts.CLIP_VOCAB)
    for name in names:
        print('building', name, flush=True)
        if name in ('tiny-sd15', 'tiny-sd2v'):
            build_sd(name, vocab, merges)
        elif name == 'tiny-sdxl':
            build_sdxl(vocab, merges)
        elif name == 'tiny-sd3':
            build_sd3(vocab, merges)
        elif name == 'tiny-sd3-not5':
            build_sd3_not5()
        elif name == 'tiny-fp16-overflow':
            build_overflow()
        else:
            raise SystemExit(f'unknown folder {name}')


if __name__ == '__main__':
    import warnings
    warnings.filterwarnings('ignore')
    main(sys.argv[1:])
