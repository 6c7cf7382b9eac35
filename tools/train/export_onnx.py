"""Exports the trained demo UNet (EMA weights) to models/mnist_unet.onnx with its dpipe sidecar.

    /usr/bin/python3 tools/train/export_onnx.py [--ckpt tools/train/runs/unet/ckpt.pt]
    node tools/train/verify-onnx.mjs          # onnxruntime-node vs PyTorch on the saved reference batch

ONNX graph: inputs `sample` float32 [B, 1, 32, 32] (the VP-scaled x_t), `timestep` float32 [B] (training
timestep index 0..999), `class_labels` int64 [B] (0..9, 10 = unconditional); output `out_sample` float32
[B, 1, 32, 32] = v-prediction. Opset 17, dynamic batch. Also writes tools/train/runs/onnx_ref.json (inputs and
PyTorch outputs) for the verification script, and three of those items as
test/eval/fixtures/mnist_unet_ref_{sample,out}.npy (timesteps 999, 250.5, 0; labels 0, 7, 10) for the tests.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from unet import UNet  # noqa: E402

SIDECAR = {
    'dpipeModel': 1,
    'description': 'dpipe demo: class-conditional UNet on MNIST 32x32 (digits 0-9, 10 = unconditional), '
                   'v-prediction, DDPM linear betas; trained by tools/train/train_unet.py',
    'prediction': 'v_prediction',
    'time': 'discrete',
    'betaSchedule': 'linear',
    'betaStart': 0.0001,
    'betaEnd': 0.02,
    'numTrainTimesteps': 1000,
    'inputScaling': 'vp',
    'sampleInput': 'sample',
    'timeInput': 'timestep',
    'output': 'out_sample',
    'classInput': 'class_labels',
    'numClasses': 10,
    'unconditionalClass': 10,
    'sampleShape': [1, 32, 32],
    'valueRange': [-1, 1],
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--ckpt', default=os.path.join(HERE, 'runs', 'unet', 'ckpt.pt'))
    ap.add_argument('--out', default=os.path.join(ROOT, 'models', 'mnist_unet.onnx'))
    args = ap.parse_args()
    torch.set_num_threads(1)
    ck = torch.load(args.ckpt)
    model = UNet()
    model.load_state_dict(ck['ema'])
    model.eval()
    g = torch.Generator().manual_seed(123)
    sample = torch.randn((5, 1, 32, 32), generator=g)
    timestep = torch.tensor([999.0, 500.0, 250.5, 10.0, 0.0])
    labels = torch.tensor([0, 3, 7, 9, 10], dtype=torch.int64)
    torch.onnx.export(model, (sample[:2], timestep[:2], labels[:2]), args.out,
                      input_names=['sample', 'timestep', 'class_labels'], output_names=['out_sample'],
                      dynamic_axes={'sample': {0: 'batch'}, 'timestep': {0: 'batch'}, 'class_labels': {0: 'batch'},
                                    'out_sample': {0: 'batch'}},
                      opset_version=17, do_constant_folding=True)
    # declare the output's spatial dimensions (see finalize-onnx.mjs)
    subprocess.run(['node', os.path.join(HERE, 'finalize-onnx.mjs'), args.out], check=True)
    with open(args.out + '.json', 'w') as f:
        json.dump(SIDECAR, f, indent=2)
        f.write('\n')
    with torch.no_grad():
        ref = model(sample, timestep, labels)
    with open(os.path.join(HERE, 'runs', 'onnx_ref.json'), 'w') as f:
        json.dump({'sample': sample.flatten().tolist(), 'timestep': timestep.tolist(),
                   'class_labels': labels.tolist(), 'out_sample': ref.flatten().tolist()}, f)
    # test fixture (test/eval/models.test.ts): items 0, 2, 4 of the reference batch as .npy
    fix = os.path.join(ROOT, 'test', 'eval', 'fixtures')
    os.makedirs(fix, exist_ok=True)
    pick = [0, 2, 4]
    np.save(os.path.join(fix, 'mnist_unet_ref_sample.npy'), sample[pick].numpy().astype(np.float32))
    np.save(os.path.join(fix, 'mnist_unet_ref_out.npy'), ref[pick].numpy().astype(np.float32))
    print(f'step {ck["step"]}: wrote {args.out} ({os.path.getsize(args.out)} bytes) and its sidecar', flush=True)


if __name__ == '__main__':
    main()
