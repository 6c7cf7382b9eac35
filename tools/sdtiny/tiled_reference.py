"""Reference for dpipe's tiled VAE decoding: diffusers' AutoencoderKL.tiled_decode algorithm, written here from its
description (tiles of T latent pixels every floor(T*(1-overlap)), each decoded alone; each tile blended in place,
linearly over floor(8*T*overlap) image pixels, with the already-blended tile above it and then the one to its left;
cropped to 8*T - blend and joined), run with the torch VAE decoder of tiny-sd15 (the same weights as its ONNX file).

    /usr/bin/python3 tools/sdtiny/tiled_reference.py     # writes test/fixtures/sd/tiled/{latent,image,full}.npy

The latent is 10 x 12 (uneven edge tiles), the tile 4 latent pixels, the overlap 0.25 (diffusers' factor).
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
import parts  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), '..', '..')
OUT = os.path.join(ROOT, 'test', 'fixtures', 'sd', 'tiled')
TILE, OVERLAP, SCALE = 4, 0.25, 8


def tiled(decode, z):
    stride = int(TILE * (1 - OVERLAP))
    blend = int(TILE * SCALE * OVERLAP)
    limit = TILE * SCALE - blend
    rows = [[decode(z[:, :, i:i + TILE, j:j + TILE]) for j in range(0, z.shape[3], stride)] for i in range(0, z.shape[2], stride)]
    out_rows = []
    for i, row in enumerate(rows):
        out = []
        for j, b in enumerate(row):
            if i > 0:
                a = rows[i - 1][j]
                e = min(a.shape[2], b.shape[2], blend)
                for y in range(e):
                    b[:, :, y, :] = a[:, :, -e + y, :] * (1 - y / e) + b[:, :, y, :] * (y / e)
            if j > 0:
                a = row[j - 1]
                e = min(a.shape[3], b.shape[3], blend)
                for x in range(e):
                    b[:, :, :, x] = a[:, :, :, -e + x] * (1 - x / e) + b[:, :, :, x] * (x / e)
            out.append(b[:, :, :limit, :limit])
        out_rows.append(torch.cat(out, dim=3))
    return torch.cat(out_rows, dim=2)


def main():
    _, dec = parts.make('tiny-sd15', 'vae')
    g = torch.Generator().manual_seed(77)
    latent = torch.randn(1, 4, 10, 12, generator=g)  # as the denoiser sees it (scaled)
    z = latent / 0.18215
    with torch.no_grad():
        img = tiled(lambda t: dec(t)[0].clone(), z)
        full = dec(z)[0]
    os.makedirs(OUT, exist_ok=True)
    np.save(os.path.join(OUT, 'latent.npy'), latent.numpy().astype(np.float32))
    np.save(os.path.join(OUT, 'image.npy'), img.numpy().astype(np.float32))
    np.save(os.path.join(OUT, 'full.npy'), full.numpy().astype(np.float32))
    with open(os.path.join(OUT, 'run.json'), 'w') as f:
        json.dump({'folder': 'test/fixtures/sd/tiny-sd15', 'tile_latent': TILE, 'overlap': OVERLAP, 'scaling_factor': 0.18215,
                   'latent': 'latent.npy [1,4,10,12] (denoiser scale)', 'image': 'image.npy: tiled decode', 'full': 'full.npy: decoded at once'}, f, indent=1)
    print('tiled vs full max |diff|', float((img - full).abs().max()))


if __name__ == '__main__':
    main()
