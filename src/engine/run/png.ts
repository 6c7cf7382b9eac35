/**
 * PNG encoding with text chunks, and reading them back.
 *
 * Every image dpipe writes carries the pipeline that made it under the keyword `dpipe`, twice:
 * - an `iTXt` chunk (PNG 1.2 §11.3.4.5; uncompressed, empty language tag), holding the pipeline as UTF-8;
 * - a `tEXt` chunk (§11.3.4.3) holding the same JSON with every non-ASCII character written as a `\uXXXX`
 *   escape, so tools that read only Latin-1 `tEXt` (PIL's `Image.info`, ComfyUI-style readers) get text that
 *   parses to the same JSON value.
 * {@link readPngText} prefers `iTXt` over `tEXt` for the same keyword. Text chunks are placed right after
 * `IHDR`, before the image data, so a reader can stop early.
 */
import { decode, encode } from 'fast-png';
import { DpipeError } from '../core/errors';

/** The keyword under which images carry their pipeline. */
export const PIPELINE_KEYWORD = 'dpipe';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

let crcTable: Uint32Array | undefined;
function crc32(bytes: Uint8Array, start: number, end: number): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, payload.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(payload, 8);
  dv.setUint32(8 + payload.length, crc32(out, 4, 8 + payload.length));
  return out;
}

function checkKeyword(keyword: string): void {
  if (!/^[\x20-\x7e]{1,79}$/.test(keyword) || keyword.startsWith(' ') || keyword.endsWith(' ')) {
    throw new DpipeError('E_INTERNAL', `PNG text keyword "${keyword}" must be 1–79 printable ASCII characters`);
  }
}

/** Escapes every non-ASCII UTF-16 unit as `\uXXXX`: valid inside JSON strings, and pure ASCII. */
export function asciiEscape(text: string): string {
  return text.replace(/[^\x00-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function textChunks(keyword: string, value: string): Uint8Array[] {
  checkKeyword(keyword);
  const enc = new TextEncoder();
  const kw = enc.encode(keyword);
  const ascii = enc.encode(asciiEscape(value).replace(/\x00/g, ''));
  const tEXt = new Uint8Array(kw.length + 1 + ascii.length);
  tEXt.set(kw, 0);
  tEXt.set(ascii, kw.length + 1);
  const utf8 = enc.encode(value.replace(/\x00/g, ''));
  // keyword \0 compression-flag(0) compression-method(0) language-tag \0 translated-keyword \0 text
  const iTXt = new Uint8Array(kw.length + 5 + utf8.length);
  iTXt.set(kw, 0);
  iTXt.set(utf8, kw.length + 5);
  return [chunk('iTXt', iTXt), chunk('tEXt', tEXt)];
}

/** The chunks of a PNG, in order; stops at IEND or at a truncated chunk. */
function* chunks(bytes: Uint8Array): Generator<{ type: string; start: number; end: number; data: Uint8Array }> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 8;
  while (off + 12 <= bytes.length) {
    const len = dv.getUint32(off);
    const type = String.fromCharCode(bytes[off + 4], bytes[off + 5], bytes[off + 6], bytes[off + 7]);
    const end = off + 12 + len;
    if (end > bytes.length) return;
    yield { type, start: off, end, data: bytes.subarray(off + 8, off + 8 + len) };
    if (type === 'IEND') return;
    off = end;
  }
}

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

/** The PNG with the given chunks inserted right after its IHDR chunk. */
function insertAfterIhdr(png: Uint8Array, extra: readonly Uint8Array[]): Uint8Array {
  if (!isPng(png)) throw new DpipeError('E_INTERNAL', 'not a PNG');
  const first = chunks(png).next().value;
  if (!first || first.type !== 'IHDR') throw new DpipeError('E_INTERNAL', 'PNG does not start with IHDR');
  const out = new Uint8Array(png.length + extra.reduce((a, c) => a + c.length, 0));
  out.set(png.subarray(0, first.end), 0);
  let off = first.end;
  for (const c of extra) {
    out.set(c, off);
    off += c.length;
  }
  out.set(png.subarray(first.end), off);
  return out;
}

/** Inserts `iTXt` + `tEXt` chunks for each entry right after IHDR. */
export function addPngText(png: Uint8Array, text: Readonly<Record<string, string>>): Uint8Array {
  const extra = Object.entries(text).flatMap(([k, v]) => textChunks(k, v));
  return insertAfterIhdr(png, extra);
}

/**
 * Inserts text chunks of one kind each right after IHDR, as other tools write them: `tEXt` (Latin-1, as PIL's
 * PngInfo.add_text writes ComfyUI's prompt/workflow and A1111's parameters) or uncompressed `iTXt` (UTF-8, what
 * A1111 writes when the text is not Latin-1).
 */
export function addPngTextChunks(png: Uint8Array, entries: readonly { readonly keyword: string; readonly text: string; readonly kind: 'tEXt' | 'iTXt' }[]): Uint8Array {
  const extra = entries.map((e) => {
    checkKeyword(e.keyword);
    const kw = new TextEncoder().encode(e.keyword);
    if (e.kind === 'tEXt') {
      if (/[^\x00-\xff]/.test(e.text)) throw new DpipeError('E_INTERNAL', `tEXt "${e.keyword}" must be Latin-1`);
      const body = Uint8Array.from(e.text, (c) => c.charCodeAt(0));
      const out = new Uint8Array(kw.length + 1 + body.length);
      out.set(kw, 0);
      out.set(body, kw.length + 1);
      return chunk('tEXt', out);
    }
    const utf8 = new TextEncoder().encode(e.text);
    const out = new Uint8Array(kw.length + 5 + utf8.length);
    out.set(kw, 0);
    out.set(utf8, kw.length + 5);
    return chunk('iTXt', out);
  });
  return insertAfterIhdr(png, extra);
}

/**
 * The text chunks of a PNG (`tEXt` and uncompressed `iTXt`; `iTXt` wins for a keyword present in both).
 * Compressed `iTXt`/`zTXt` chunks are skipped. Returns {} for bytes that are not a PNG.
 */
export function readPngText(bytes: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isPng(bytes)) return out;
  const fromItxt = new Set<string>();
  const latin1 = new TextDecoder('latin1');
  const utf8 = new TextDecoder('utf-8');
  for (const c of chunks(bytes)) {
    if (c.type !== 'tEXt' && c.type !== 'iTXt') continue;
    const z = c.data.indexOf(0);
    if (z <= 0) continue;
    const keyword = latin1.decode(c.data.subarray(0, z));
    if (c.type === 'tEXt') {
      if (!fromItxt.has(keyword)) out[keyword] = latin1.decode(c.data.subarray(z + 1));
      continue;
    }
    const compressed = c.data[z + 1];
    if (compressed !== 0) continue;
    const lang = c.data.indexOf(0, z + 3);
    const translated = lang < 0 ? -1 : c.data.indexOf(0, lang + 1);
    if (translated < 0) continue;
    out[keyword] = utf8.decode(c.data.subarray(translated + 1));
    fromItxt.add(keyword);
  }
  return out;
}

/** The pipeline text a dpipe image carries, or undefined when it carries none. */
export function readPipelineFromPng(bytes: Uint8Array): string | undefined {
  return readPngText(bytes)[PIPELINE_KEYWORD];
}

/** An 8-bit image, row-major, `channels` interleaved values per pixel (1 = gray, 3 = RGB). */
export interface Image8 {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  readonly data: Uint8Array;
}

/** Encodes an 8-bit gray or RGB image as PNG, with optional text chunks. */
export function encodePng(img: Image8, text: Readonly<Record<string, string>> = {}): Uint8Array {
  const png = encode({ width: img.width, height: img.height, data: img.data, channels: img.channels, depth: 8 });
  return Object.keys(text).length ? addPngText(png, text) : png;
}

/**
 * Decodes a PNG to RGB values in [0, 1], [3, H, W] planes (gray is repeated, a palette expanded, alpha dropped as
 * PIL's convert("RGB") drops it). E_FILE_MISSING-style errors are the caller's; this throws E_PARAM_VALUE for bytes
 * that are not a PNG.
 */
export function decodePngRgb(bytes: Uint8Array, name = 'image'): { width: number; height: number; data: Float64Array } {
  if (!isPng(bytes)) throw new DpipeError('E_PARAM_VALUE', `${name} is not a PNG file`);
  let img;
  try {
    img = decode(bytes);
  } catch (e) {
    throw new DpipeError('E_PARAM_VALUE', `${name} cannot be decoded as PNG: ${(e as Error).message}`);
  }
  const { width, height, channels, depth } = img;
  const max = depth === 16 ? 65535 : depth === 8 ? 255 : 2 ** depth - 1;
  const n = width * height;
  const out = new Float64Array(3 * n);
  const src = img.data as ArrayLike<number>;
  const pal = (img as { palette?: readonly (readonly number[])[] }).palette;
  for (let i = 0; i < n; i++) {
    let r: number;
    let g: number;
    let b: number;
    if (pal) {
      const c = pal[src[i]] ?? [0, 0, 0];
      [r, g, b] = [c[0] / 255, c[1] / 255, c[2] / 255];
    } else if (channels <= 2) {
      r = g = b = src[i * channels] / max;
    } else {
      r = src[i * channels] / max;
      g = src[i * channels + 1] / max;
      b = src[i * channels + 2] / max;
    }
    out[i] = r;
    out[n + i] = g;
    out[2 * n + i] = b;
  }
  return { width, height, data: out };
}
