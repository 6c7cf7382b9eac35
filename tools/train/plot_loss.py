"""Summarizes and plots the UNet training loss (OUT/loss.csv) for the README.

    /usr/bin/python3 tools/train/plot_loss.py [--csv tools/train/runs/unet/loss.csv] [--out docs/img/mnist_unet_loss.png]

Prints the mean logged loss per window of 250 steps and the wall time; draws log-loss against step (PIL only).
"""
import argparse
import csv
import math
import os

from PIL import Image, ImageDraw

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--csv', default=os.path.join(HERE, 'runs', 'unet', 'loss.csv'))
    ap.add_argument('--out', default=os.path.join(ROOT, 'docs', 'img', 'mnist_unet_loss.png'))
    ap.add_argument('--window', type=int, default=250)
    args = ap.parse_args()
    with open(args.csv) as f:
        rows = [(int(r['step']), float(r['loss']), float(r['elapsed_s'])) for r in csv.DictReader(f)]
    last = rows[-1][0]
    for lo in range(0, last, args.window):
        w = [l for s, l, _ in rows if lo < s <= lo + args.window]
        if w:
            print(f'steps {lo + 1:5d}-{min(lo + args.window, last):5d}: mean loss {sum(w) / len(w):.4f}')
    print(f'{last} steps in {rows[-1][2] / 60:.1f} min')
    W, H, m = 640, 320, 40
    img = Image.new('L', (W, H), 255)
    d = ImageDraw.Draw(img)
    ys = [math.log10(l) for _, l, _ in rows]
    y0, y1 = min(ys), max(ys)
    pts = [(m + (s / last) * (W - 2 * m), H - m - (y - y0) / (y1 - y0) * (H - 2 * m)) for (s, _, _), y in zip(rows, ys)]
    d.rectangle([m, m, W - m, H - m], outline=0)
    d.line(pts, fill=60, width=1)
    d.text((m, 8), f'v-prediction MSE (log scale, {10 ** y0:.3f}..{10 ** y1:.2f}) vs step 0..{last}', fill=0)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    img.save(args.out)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
