/**
 * NumPy .npy (format 1.0–3.0) reading and writing: little-endian float32/float64 (and integer dtypes on
 * read), C order. Fortran-order arrays are rejected with a clear error.
 */
import { DpipeError } from './errors';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export interface NpyArray {
  readonly shape: number[];
  readonly dtype: string;
  /** Values as float64 whatever the stored dtype. */
  readonly data: Float64Array;
}

export function parseNpy(buf: Uint8Array, name = 'array'): NpyArray {
  const bad = (why: string) => new DpipeError('E_NPY', `${name}: not a readable .npy file (${why}).`);
  if (buf.length < 10 || MAGIC.some((b, i) => buf[i] !== b)) throw bad('missing the \\x93NUMPY magic');
  const major = buf[6];
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder('latin1').decode(buf.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw bad('malformed header');
  if (fortran === 'True') throw bad('Fortran-order arrays are not supported; save with np.ascontiguousarray');
  const dims = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const badDim = dims.find((d) => !/^\d+L?$/.test(d));
  if (badDim !== undefined) throw bad(`the shape (${shapeText.trim()}) has the dimension "${badDim}"; dimensions are integers ≥ 0`);
  const shape = dims.map((d) => Number(d.replace(/L$/, '')));
  const count = shape.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count) || count > buf.length) throw bad(`the shape (${shape.join(', ')}) holds ${count.toLocaleString('en-US')} values, more than the file's ${buf.length} bytes can`);
  const off = start + headerLen;
  const readers: Record<string, [number, (o: number) => number]> = {
    '<f4': [4, (o) => dv.getFloat32(o, true)],
    '<f8': [8, (o) => dv.getFloat64(o, true)],
    '<f2': [2, (o) => halfToFloat(dv.getUint16(o, true))],
    '<i4': [4, (o) => dv.getInt32(o, true)],
    '<i8': [8, (o) => Number(dv.getBigInt64(o, true))],
    '<u1': [1, (o) => dv.getUint8(o)],
    '|u1': [1, (o) => dv.getUint8(o)],
    '|i1': [1, (o) => dv.getInt8(o)],
    '|b1': [1, (o) => dv.getUint8(o)],
  };
  const r = readers[descr];
  if (!r) throw bad(`dtype ${descr} is not supported; use float32 or float64`);
  const [size, read] = r;
  if (off + count * size > buf.length) throw bad(`expected ${count} values of ${descr}, file is truncated`);
  const data = new Float64Array(count);
  if (descr === '<f4' && (buf.byteOffset + off) % 4 === 0) {
    data.set(new Float32Array(buf.buffer, buf.byteOffset + off, count));
  } else {
    for (let i = 0; i < count; i++) data[i] = read(off + i * size);
  }
  return { shape, dtype: descr, data };
}

/** An IEEE 754 binary16 bit pattern as a number (subnormals, ±∞ and NaN included). */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * A number as an IEEE 754 binary16 bit pattern, rounded to nearest-even. The value is first rounded to float32
 * (as a float32 tensor cast to float16 is, in torch and numpy), then to half: ±∞ beyond ±65504, subnormals kept.
 */
export function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 112; // exponent re-biased for half (127 − 15)
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa moves to the next exponent (and past 65504 to ∞), as it should.
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
  return sign | h;
}

/** Serializes to .npy v1.0 (float32 by default, `<f8` when asked). */
export function encodeNpy(shape: readonly number[], data: ArrayLike<number>, dtype: '<f4' | '<f8' = '<f4'): Uint8Array {
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const size = dtype === '<f4' ? 4 : 8;
  const out = new Uint8Array(10 + header.length + data.length * size);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  dv.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const off = 10 + header.length;
  for (let i = 0; i < data.length; i++) {
    if (size === 4) dv.setFloat32(off + i * 4, data[i], true);
    else dv.setFloat64(off + i * 8, data[i], true);
  }
  return out;
}
