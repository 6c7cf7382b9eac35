/**
 * The prompt tokenizers of model folders against ids computed by reference implementations of the algorithms
 * (tools/sdtiny/clip_reference.py: the CLIP tokenizer algorithm of openai/CLIP; tools/sdtiny/t5_reference.py: T5's
 * Unigram with its normalizer), on the tiny folders' own vocabularies:
 * - CLIP in the slow format (vocab.json + merges.txt, converted by the engine to tokenizer.json) and the fast one;
 *   padding with <|endoftext|> (SD 1.x, SDXL's first tokenizer) and with "!" registered as a special token (SD 2.x,
 *   SDXL's second tokenizer); truncation to 77 with the dropped tokens reported.
 * - T5 (SD3's third tokenizer) from tokenizer.json, 256 tokens.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadTokenizer } from '../../src/engine/text/tokenizer';

const SD = path.join(__dirname, '..', 'fixtures', 'sd');

interface Case {
  name: string;
  text: string;
  ids: number[];
  length: number;
  ids_pad_bang?: number[];
  length_pad_bang?: number;
}

const clip = JSON.parse(fs.readFileSync(path.join(SD, 'tokens', 'clip.json'), 'utf8')) as { prompts: Case[]; max_length: number };
const t5 = JSON.parse(fs.readFileSync(path.join(SD, 'tokens', 't5.json'), 'utf8')) as { prompts: Case[]; max_length: number };

describe('prompt tokenizers against reference ids', () => {
  it('has at least 40 CLIP prompts (punctuation, numbers, unicode, empty, longer than 77 tokens) and 15 T5 prompts', () => {
    assert.ok(clip.prompts.length >= 40);
    assert.ok(clip.prompts.some((p) => p.text === ''));
    assert.ok(clip.prompts.some((p) => p.length > 77));
    assert.ok(clip.prompts.some((p) => /[^\x00-\x7f]/.test(p.text)));
    assert.ok(t5.prompts.length >= 15);
  });

  it('CLIP, slow files (vocab.json + merges.txt), <|endoftext|> padding: every prompt gives the reference ids', async () => {
    const tok = await loadTokenizer(path.join(SD, 'tiny-sd15', 'tokenizer'));
    assert.equal(tok.maxLength, 77);
    for (const p of clip.prompts) {
      const r = tok.encode(p.text);
      assert.deepEqual(r.ids, p.ids, `prompt "${p.name}"`);
      assert.equal(r.length, p.length, `prompt "${p.name}": untruncated length`);
      assert.equal(r.dropped, Math.max(0, p.length - 77), `prompt "${p.name}": dropped tokens`);
    }
  });

  it('CLIP, fast tokenizer.json with "!" as the padding token (SD 2.x): every prompt gives the reference ids', async () => {
    const tok = await loadTokenizer(path.join(SD, 'tiny-sd2v', 'tokenizer'));
    for (const p of clip.prompts) {
      assert.deepEqual(tok.encode(p.text).ids, p.ids_pad_bang, `prompt "${p.name}"`);
    }
  });

  it('CLIP, slow files with "!" as the padding token (SDXL tokenizer_2): "!" in a prompt is the special token, as transformers does', async () => {
    const tok = await loadTokenizer(path.join(SD, 'tiny-sdxl', 'tokenizer_2'));
    for (const p of clip.prompts) {
      assert.deepEqual(tok.encode(p.text).ids, p.ids_pad_bang, `prompt "${p.name}"`);
    }
  });

  it('truncation keeps the start and end tokens and reports the dropped text', async () => {
    const tok = await loadTokenizer(path.join(SD, 'tiny-sd15', 'tokenizer'));
    const long = clip.prompts.find((p) => p.length > 77)!;
    const r = tok.encode(long.text);
    assert.equal(r.ids.length, 77);
    assert.equal(r.ids[0], 1411);
    assert.equal(r.ids[76], 1412);
    assert.equal(r.dropped, long.length - 77);
    assert.ok(r.droppedText.trim().length > 0);
    assert.ok(long.text.toLowerCase().replace(/\s+/g, ' ').includes(r.droppedText.trim().split(' ').slice(-1)[0]));
  });

  it('T5 (SD3 tokenizer_3, Unigram from tokenizer.json): every prompt gives the reference ids, padded to 256', async () => {
    const tok = await loadTokenizer(path.join(SD, 'tiny-sd3', 'tokenizer_3'));
    for (const p of t5.prompts) {
      const r = tok.encode(p.text, 256);
      assert.equal(r.ids.length, 256);
      assert.deepEqual(r.ids, p.ids, `prompt "${p.name}"`);
    }
  });

  it('a tokenizer folder without tokenizer.json and without vocab.json + merges.txt is a located error', async () => {
    await assert.rejects(loadTokenizer(path.join(SD, 'tiny-sd15', 'scheduler')), /E_MODEL_FOLDER|no tokenizer\.json, and no vocab\.json \+ merges\.txt pair/);
  });
});
