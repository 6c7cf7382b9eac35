import { strict as assert } from 'node:assert';
import type { CliIO } from '../../src/cli/command';
import { Progress, formatDuration } from '../../src/cli/progress';
import { main } from '../../src/cli/main';
import { latent } from '../../src/engine/core/latent';

function fakeIO(isTTY: boolean): CliIO & { text: () => string; outText: () => string } {
  let err = '';
  let out = '';
  return {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    isTTY,
    columns: 100,
    cwd: process.cwd(),
    signal: new AbortController().signal,
    text: () => err,
    outText: () => out,
  };
}

const step = (i: number, n: number) => ({ step: i, sigma: n - i, sigmaNext: n - i - 1, x: latent([1]) });

describe('cli/progress', () => {
  it('on a terminal: one line redrawn in place with steps, it/s, ETA and NFE, ended by a newline', () => {
    const io = fakeIO(true);
    let t = 0;
    const p = new Progress(io, () => t);
    p.sampleStart('sample', { sigmas: new Float64Array(5), nfe: 4 });
    for (let i = 0; i < 4; i++) {
      t += 500;
      p.eval();
      p.step('sample', step(i, 4));
    }
    const text = io.text();
    assert.match(text, /^\r\x1b\[Ksample ▕░+▏ 0\/4 steps/);
    assert.match(text, /\r\x1b\[Ksample ▕█+░+▏ 2\/4 steps · 2\.00 it\/s · ETA 0:01 · NFE 2/);
    assert.match(text, /4\/4 steps · 2\.00 it\/s · ETA 0:00 · NFE 4\n$/);
  });

  it('otherwise: plain lines, every step for short runs and about every 5% for long ones', () => {
    const io = fakeIO(false);
    let t = 0;
    const p = new Progress(io, () => t);
    p.sampleStart('s', { sigmas: new Float64Array(101), nfe: 100 });
    for (let i = 0; i < 100; i++) {
      t += 10;
      p.step('s', step(i, 100));
    }
    const lines = io.text().trim().split('\n');
    assert.equal(lines[0], 's: 100 steps, about 100 model evaluations');
    assert.equal(lines.length, 1 + 20);
    assert.equal(lines[1], 's: step 5/100  σ 95  100.00 it/s  ETA 0:01');
    assert.match(lines[20], /^s: step 100\/100 {2}σ 0 {2}100\.00 it\/s {2}ETA 0:00$/);
  });

  it('formats durations as m:ss or h:mm:ss', () => {
    assert.equal(formatDuration(0.4), '0:00');
    assert.equal(formatDuration(75), '1:15');
    assert.equal(formatDuration(3725), '1:02:05');
    assert.equal(formatDuration(Infinity), '?');
  });

  it('main: help, version and usage errors by exit code; user errors without a stack, internal ones with', async () => {
    const io = fakeIO(false);
    assert.equal(await main(['--help'], io), 0);
    assert.match(io.outText(), /Commands:\n {2}run +run a pipeline/);
    assert.equal(await main(['--version'], io), 0);
    const boom = { name: 'boom', summary: 's', usage: 'u', run: async () => { throw new TypeError('bad thing'); } };
    const io2 = fakeIO(false);
    assert.equal(await main(['boom'], io2, [boom]), 70);
    assert.match(io2.text(), /internal error \(please report it\): TypeError: bad thing\n\s+at /);
  });
});
