"""Trains the FD-MNIST feature network: a small CNN digit classifier, exported to models/mnist_classifier.onnx.

    node tools/train/export-mnist.mjs            # once
    /usr/bin/python3 tools/train/train_classifier.py [--epochs 20] [--seed 0] [--threads 1]

Input: `image` [B, 1, 32, 32] float32 in [-1, 1] (background -1, ink +1; the 28x28 digit centred with 2 pixels of
background on each side) — the same convention as the demo UNet's output. Outputs: `logits` [B, 10] and
`features` [B, 128], the penultimate layer (after its ReLU) that FD-MNIST compares, the way FID uses Inception's
pool3 features (Heusel et al. 2017). Trained on the training split only, with random shifts of up to 2 pixels;
accuracy is reported on the held-out split.
"""
import argparse
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from train_unet import load_split  # noqa: E402


class Classifier(nn.Module):
    def __init__(self, feat: int = 128):
        super().__init__()

        def block(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
                                 nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())

        self.b1 = block(1, 32)     # 32x32
        self.b2 = block(32, 64)    # 16x16
        self.b3 = block(64, 128)   # 8x8
        self.fc = nn.Linear(128 * 4 * 4, feat)
        self.drop = nn.Dropout(0.3)
        self.head = nn.Linear(feat, 10)

    def forward(self, image: torch.Tensor):
        h = F.max_pool2d(self.b1(image), 2)
        h = F.max_pool2d(self.b2(h), 2)
        h = F.max_pool2d(self.b3(h), 2)
        features = F.relu(self.fc(h.flatten(1)))
        return self.head(self.drop(features)), features


def shift(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Random translation by up to 2 pixels (background -1 fills the border)."""
    b = x.shape[0]
    p = F.pad(x, (2, 2, 2, 2), value=-1.0)
    dx = torch.randint(0, 5, (b,), generator=g)
    dy = torch.randint(0, 5, (b,), generator=g)
    return torch.stack([p[i, :, dy[i]:dy[i] + 32, dx[i]:dx[i] + 32] for i in range(b)])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--epochs', type=int, default=20)
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--out', default=os.path.join(ROOT, 'models', 'mnist_classifier.onnx'))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    xtr, ytr = load_split('train')
    xte, yte = load_split('heldout')
    model = Classifier()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=5e-4)
    steps_per_epoch = math.ceil(xtr.shape[0] / args.batch)
    total = args.epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=total)
    g = torch.Generator().manual_seed(args.seed)
    for ep in range(args.epochs):
        model.train()
        perm = torch.randperm(xtr.shape[0], generator=g)
        tot = 0.0
        for i in range(steps_per_epoch):
            idx = perm[i * args.batch:(i + 1) * args.batch]
            logits, _ = model(shift(xtr[idx], g))
            loss = F.cross_entropy(logits, ytr[idx], label_smoothing=0.05)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            tot += loss.item()
        model.eval()
        with torch.no_grad():
            acc = (model(xte)[0].argmax(1) == yte).float().mean().item()
        print(f'epoch {ep + 1}/{args.epochs} loss {tot / steps_per_epoch:.4f} held-out acc {acc * 100:.2f}%',
              flush=True)
    model.eval()
    torch.onnx.export(model, (xte[:2],), args.out, input_names=['image'], output_names=['logits', 'features'],
                      dynamic_axes={'image': {0: 'batch'}, 'logits': {0: 'batch'}, 'features': {0: 'batch'}},
                      opset_version=17, do_constant_folding=True)
    # reference outputs for the export check (first 8 held-out digits)
    with torch.no_grad():
        logits, feats = model(xte[:8])
    np.save(os.path.join(HERE, 'runs', 'classifier_ref_logits.npy'), logits.numpy())
    print(f'wrote {args.out} ({os.path.getsize(args.out)} bytes); held-out accuracy {acc * 100:.2f}%', flush=True)


if __name__ == '__main__':
    main()
