/**
 * PNG fixtures as ComfyUI and A1111 write them, built with dpipe's PNG helpers (src/engine/run/png.ts) from the
 * hand-written JSON/text fixtures beside them:
 * - comfyui-default.png: ComfyUI's SaveImage (PIL PngInfo): `prompt` (the API prompt, json.dumps: ASCII) and
 *   `workflow` (the UI workflow) as tEXt chunks;
 * - comfyui-workflow-only.png: only the `workflow` chunk (what a UI-saved image keeps when the prompt is stripped);
 * - a1111-euler-a.png: A1111's `parameters` infotext, tEXt (Latin-1);
 * - a1111-utf8.png: an infotext with non-Latin-1 text, which A1111 writes as iTXt.
 * Run: npx tsx tools/interop/make_pngs.ts (test/interop/importFile.test.ts checks the committed files against it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseTree, type Node as JsonNode } from 'jsonc-parser';
import { addPngTextChunks, encodePng } from '../../src/engine/run/png';

const DIR = path.join(__dirname, '..', '..', 'test', 'fixtures', 'interop');
const read = (f: string) => fs.readFileSync(path.join(DIR, f), 'utf8');

/** An 8×8 gradient, the picture the chunks ride on. */
function picture(): Uint8Array {
  const data = new Uint8Array(8 * 8 * 3);
  for (let i = 0; i < 64; i++) data.set([i * 4, 255 - i * 4, 128], i * 3);
  return encodePng({ width: 8, height: 8, channels: 3, data });
}

/**
 * Python's json.dumps of the parsed file: ", " and ": " separators, non-ASCII characters escaped, integers exactly as
 * written (Python keeps seeds above 2⁵³; a JavaScript number would not).
 */
function pyJson(text: string): string {
  const emit = (n: JsonNode): string => {
    switch (n.type) {
      case 'object':
        return `{${(n.children ?? []).map((p) => `${emit(p.children![0])}: ${emit(p.children![1])}`).join(', ')}}`;
      case 'array':
        return `[${(n.children ?? []).map(emit).join(', ')}]`;
      case 'number':
        return text.slice(n.offset, n.offset + n.length);
      default:
        return JSON.stringify(n.value).replace(/[^\x00-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    }
  };
  return emit(parseTree(text)!);
}

export function fixtures(): Record<string, Uint8Array> {
  return {
    'comfyui-default.png': addPngTextChunks(picture(), [
      { keyword: 'prompt', text: pyJson(read('comfyui-default-api.json')), kind: 'tEXt' },
      { keyword: 'workflow', text: pyJson(read('comfyui-default-workflow-v04.json')), kind: 'tEXt' },
    ]),
    'comfyui-workflow-only.png': addPngTextChunks(picture(), [{ keyword: 'workflow', text: pyJson(read('comfyui-custom-workflow-v1.json')), kind: 'tEXt' }]),
    'a1111-euler-a.png': addPngTextChunks(picture(), [{ keyword: 'parameters', text: read('a1111-euler-a-variation.txt').trimEnd(), kind: 'tEXt' }]),
    'a1111-utf8.png': addPngTextChunks(picture(), [{ keyword: 'parameters', text: 'ein Café in Zürich, 東京の夜\nSteps: 12, Sampler: Euler, Schedule type: Karras, CFG scale: 5, Seed: 77, Size: 512x512, RNG: CPU, Version: v1.10.1', kind: 'iTXt' }]),
  };
}

if (require.main === module) {
  for (const [name, bytes] of Object.entries(fixtures())) {
    fs.writeFileSync(path.join(DIR, name), bytes);
    console.log(`wrote ${name} (${bytes.length} bytes)`);
  }
}
