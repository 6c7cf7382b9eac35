// fast-png ships its types behind package `exports` only, which this project's `moduleResolution: node` does
// not read; this declares the part of its API the engine uses (fast-png 8).
declare module 'fast-png' {
  export interface ImageData {
    width: number;
    height: number;
    data: Uint8Array | Uint8ClampedArray | Uint16Array;
    depth?: 1 | 2 | 4 | 8 | 16;
    channels?: number;
    text?: Record<string, string>;
  }
  export interface DecodedPng {
    width: number;
    height: number;
    data: Uint8Array | Uint8ClampedArray | Uint16Array;
    depth: 1 | 2 | 4 | 8 | 16;
    channels: number;
    text: Record<string, string>;
  }
  export function encode(png: ImageData): Uint8Array;
  export function decode(data: ArrayBufferLike | ArrayBufferView, options?: { checkCrc?: boolean }): DecodedPng;
}
