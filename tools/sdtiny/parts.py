"""The tiny models of each fixture folder: sizes, seeds and output calibration, shared by build.py (which exports
them) and reference.py (which runs them). Everything is deterministic: fixed seeds, one torch thread.

Calibration (so that random-weight samplers stay finite and images are not all clipped): the UNet / SD3
transformer's prediction branch is scaled to standard deviation 0.5 on random inputs (the input skip adds about
1 x sample), the VAE decoder's output to 0.5, and the VAE encoder's mean to 1/scaling_factor (so scaled latents
have unit variance) with logvar around -6. The float16 folders round every weight to float16 before calibration
is measured and again after, so torch and ONNX hold the same numbers.
"""
import torch

import nets

torch.set_num_threads(1)

CLIP_VOCAB = 1413  # len(vocab.json) of the tiny CLIP BPE (checked in build.py)

SPECS = {
    'tiny-sd15': {
        'text_encoder': dict(kind='clip', hidden=64, layers=2, heads=4, inter=128, act='quick_gelu', seed=101),
        'unet': dict(kind='unet', ch=(32, 64), ctx=64, seed=102),
        'vae': dict(kind='vae', latent=4, ch=(16, 16, 32, 32), scaling=0.18215, seed=103),
    },
    'tiny-sd2v': {
        'text_encoder': dict(kind='clip', hidden=48, layers=2, heads=4, inter=96, act='gelu', seed=201),
        'unet': dict(kind='unet', ch=(32, 64), ctx=48, seed=202),
        'vae': dict(kind='vae', latent=4, ch=(16, 16, 32, 32), scaling=0.18215, seed=203),
    },
    'tiny-sdxl': {
        'text_encoder': dict(kind='clip', hidden=32, layers=2, heads=2, inter=64, act='quick_gelu', seed=301,
                             hidden_states=True),
        'text_encoder_2': dict(kind='clip', hidden=48, layers=2, heads=4, inter=96, act='gelu', projection=40,
                               seed=302, hidden_states=True),
        'unet': dict(kind='unet', ch=(32, 64), ctx=80, add_time_dim=8, text_embeds=40, seed=303),
        'vae': dict(kind='vae', latent=4, ch=(16, 16, 32, 32), scaling=0.13025, seed=304),
        'fp16': True,
    },
    'tiny-sd3': {
        'text_encoder': dict(kind='clip', hidden=32, layers=2, heads=2, inter=64, act='quick_gelu', projection=32,
                             seed=401, hidden_states=True),
        'text_encoder_2': dict(kind='clip', hidden=48, layers=2, heads=4, inter=96, act='gelu', projection=48,
                               seed=402, hidden_states=True),
        'text_encoder_3': dict(kind='t5', d_model=96, layers=2, heads=4, d_ff=128, seed=403),
        'transformer': dict(kind='sd3', in_ch=16, dim=64, heads=4, layers=2, joint=96, pooled=80, pos_max=16,
                            seed=404),
        'vae': dict(kind='vae', latent=16, ch=(16, 16, 32, 32), scaling=1.5305, shift=0.0609, seed=405),
    },
}


def round_fp16(module: torch.nn.Module) -> None:
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(p.half().float())


def _calibrate_scale(run, layer, target: float) -> None:
    """Scales `layer` (weight and bias) so that the std of run() becomes `target`."""
    with torch.no_grad():
        s = float(run().std())
        layer.weight.mul_(target / s)
        if layer.bias is not None:
            layer.bias.mul_(target / s)


def make(folder: str, part: str, t5_vocab: int = None):
    """The torch module of one part ('vae' gives (encoder, decoder)), eval mode, weights final."""
    spec = SPECS[folder][part]
    fp16 = SPECS[folder].get('fp16', False)
    torch.manual_seed(spec['seed'])
    g = torch.Generator().manual_seed(spec['seed'] + 7)
    if spec['kind'] == 'clip':
        m = nets.ClipText(CLIP_VOCAB, spec['hidden'], spec['layers'], spec['heads'], spec['inter'], act=spec['act'],
                          projection=spec.get('projection'), hidden_states=spec.get('hidden_states', False))
    elif spec['kind'] == 't5':
        m = nets.T5Encoder(t5_vocab, spec['d_model'], spec['layers'], spec['heads'], spec['d_ff'])
    elif spec['kind'] == 'unet':
        m = nets.UNet(4, spec['ch'], spec['ctx'], spec.get('add_time_dim'), spec.get('text_embeds'))
        if fp16:
            round_fp16(m)
        b = 4
        args = [torch.randn(b, 4, 8, 8, generator=g), torch.tensor(500.0), torch.randn(b, 77, spec['ctx'], generator=g)]
        if spec.get('add_time_dim'):
            args += [torch.randn(b, spec['text_embeds'], generator=g), torch.tensor([[64.0, 64, 0, 0, 64, 64]] * b)]
        m.eval()

        def run():
            out = m(*args)[0]
            return out - m.skip * args[0]
        _calibrate_scale(run, m.conv_out, 0.5)
    elif spec['kind'] == 'sd3':
        m = nets.SD3Transformer(spec['in_ch'], 2, spec['dim'], spec['heads'], spec['layers'], spec['joint'],
                                spec['pooled'], spec['pos_max'])
        with torch.no_grad():  # sharper joint attention, stronger attention branch: the text tokens matter more
            d = spec['dim']
            for blk in m.blocks:
                blk.out_x.weight.mul_(4.0)
                blk.qkv_x.weight[:d].mul_(2.0)
                blk.qkv_c.weight[d:2 * d].mul_(2.0)
        b = 4
        x = torch.randn(b, spec['in_ch'], 8, 8, generator=g)
        args = [x, torch.randn(b, 333, spec['joint'], generator=g), torch.randn(b, spec['pooled'], generator=g),
                torch.full((b,), 500.0)]
        m.eval()
        _calibrate_scale(lambda: m(*args)[0] - m.skip * x, m.proj_out, 0.5)
    elif spec['kind'] == 'vae':
        enc = nets.VaeEncoder(spec['latent'], spec['ch'])
        dec = nets.VaeDecoder(spec['latent'], spec['ch'])
        if fp16:
            round_fp16(enc)
            round_fp16(dec)
        enc.eval()
        dec.eval()
        lat = spec['latent']
        img = torch.rand(2, 3, 64, 64, generator=g) * 2 - 1
        z = torch.randn(2, lat, 8, 8, generator=g) / spec['scaling']
        _calibrate_scale(lambda: dec(z)[0], dec.conv_out, 0.5)
        with torch.no_grad():
            params = enc(img)[0]
            mean_std = float(params[:, :lat].std())
            enc.quant.weight[:lat].mul_((1 / spec['scaling']) / mean_std)
            enc.quant.bias[:lat].mul_((1 / spec['scaling']) / mean_std)
            enc.quant.weight[lat:].mul_(0.2)
            enc.quant.bias[lat:].fill_(-6.0)
            if fp16:
                round_fp16(enc)
                round_fp16(dec)
        return enc, dec
    else:
        raise ValueError(spec['kind'])
    if fp16:
        round_fp16(m)
    return m.eval()
