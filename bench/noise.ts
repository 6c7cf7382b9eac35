/**
 * Torch-noise benchmark (runs when imported by bench/index.ts, or alone: `node --import tsx bench/noise.ts`): the
 * time to draw one SDXL-sized latent [1, 16, 128, 128] (262,144 values) with `noise.torch`'s generators — torch's
 * CPU randn with each kernel, A1111's NV generator, and A1111's variation seed (two draws and a slerp). The first
 * draw of each (cold: the JIT compiles it) and the median of the next 7.
 */
import { NvGenerator } from '../src/engine/noise/nv';
import { torchNoise } from '../src/engine/noise/torch';
import { TorchCpuGenerator, TORCH_CPU_KERNELS } from '../src/engine/noise/torchcpu';

const SHAPE = [1, 16, 128, 128];
const N = SHAPE.reduce((a, b) => a * b, 1);

function measure(label: string, draw: (k: number) => void): void {
  const times: number[] = [];
  for (let k = 0; k < 8; k++) {
    const t0 = performance.now();
    draw(k);
    times.push(performance.now() - t0);
  }
  const warm = times.slice(1).sort((a, b) => a - b)[3];
  console.log(`  ${label.padEnd(44)} cold ${times[0].toFixed(1).padStart(6)} ms   warm ${warm.toFixed(1).padStart(6)} ms`);
}

function main(): void {
  console.log(`Torch noise: one draw of [${SHAPE.join(', ')}] (${N} values)`);
  for (const kernel of TORCH_CPU_KERNELS) measure(`torch.randn, CPU kernel ${kernel}`, (k) => new TorchCpuGenerator(k).randn(N, kernel));
  measure('A1111 NV (Philox)', (k) => new NvGenerator(k).randn(N));
  measure('A1111 variation seed (2 draws + slerp)', (k) =>
    torchNoise({ seed: k, order: 'a1111', source: 'cpu', kernel: 'avx2', variationSeed: 100 + k, variationStrength: 0.3 }).initial(SHAPE),
  );
}

main();
