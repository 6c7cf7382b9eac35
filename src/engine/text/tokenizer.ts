/**
 * Prompt tokenizers of a model folder's tokenizer folders (`tokenizer/`, `tokenizer_2/`, …), on Hugging Face's own JavaScript implementation
 * (`@huggingface/tokenizers`, the tokenizers of transformers.js), with the padding and truncation that diffusers'
 * pipelines ask for (`padding="max_length", max_length=tokenizer.model_max_length, truncation=True`).
 *
 * - A `tokenizer.json` (the "fast" format: CLIP, T5, …) is used as it is.
 * - A CLIP tokenizer saved in the "slow" format (`vocab.json` + `merges.txt` + `tokenizer_config.json`, what many
 *   Stable Diffusion repositories hold) is turned into the equivalent tokenizer.json: the CLIP tokenizer algorithm of
 *   Radford et al. 2021 ("Learning Transferable Visual Models From Natural Language Supervision", openai/CLIP
 *   `simple_tokenizer.py`): whitespace runs collapsed, lower case, words split by the pattern
 *   `'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+` (every digit its own word), bytes mapped to
 *   printable characters, byte-pair merges by rank within a word ending in `</w>`, `<|startoftext|>` … `<|endoftext|>`
 *   around the ids.
 *
 * Truncation keeps the special tokens: a CLIP prompt keeps its first 75 tokens between start and end; the tokens
 * dropped are reported (count and text) so the caller can warn, as diffusers logs "The following part of your input
 * was truncated".
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import { Tokenizer } from '@huggingface/tokenizers';
import { DpipeError } from '../core/errors';

type Json = Record<string, unknown>;

export interface TokenizedPrompt {
  /** Exactly `maxLength` ids: the encoded prompt with its special tokens, truncated, then padded. */
  readonly ids: readonly number[];
  /** Tokens of the prompt with special tokens, before truncation and padding. */
  readonly length: number;
  /** Content tokens dropped by truncation (0 when the prompt fits). */
  readonly dropped: number;
  /** The dropped tokens as text. */
  readonly droppedText: string;
}

export interface PromptTokenizer {
  /** The tokenizer folder, for messages. */
  readonly dir: string;
  readonly maxLength: number;
  readonly padId: number;
  encode(text: string, maxLength?: number): TokenizedPrompt;
}

async function readJson(file: string): Promise<Json | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Json;
  } catch (e) {
    throw new DpipeError('E_MODEL_FOLDER', `${file} is not a valid JSON object: ${(e as Error).message}`);
  }
}

/** A token setting of tokenizer_config.json / special_tokens_map.json: a string or an AddedToken object. */
function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as Json).content === 'string') return (v as Json).content as string;
  return undefined;
}

/** The CLIP pre-tokenization pattern (openai/CLIP simple_tokenizer.py), special tokens first. */
const CLIP_PATTERN = "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

/**
 * The tokenizer.json of a CLIP tokenizer saved as vocab.json + merges.txt (Hugging Face's slow CLIPTokenizer files):
 * NFC, whitespace runs → one space, lower case; split by {@link CLIP_PATTERN}; byte-level alphabet; BPE with the
 * `</w>` end-of-word suffix; `<|startoftext|>` ids `<|endoftext|>`.
 */
export function clipTokenizerJson(vocab: Readonly<Record<string, number>>, mergesText: string, config: Json): Json {
  const merges = mergesText.split(/\r?\n/).filter((l) => l.length > 0 && !l.startsWith('#version'));
  const bos = tokenText(config.bos_token) ?? '<|startoftext|>';
  const eos = tokenText(config.eos_token) ?? '<|endoftext|>';
  const unk = tokenText(config.unk_token) ?? eos;
  const idOf = (t: string, what: string) => {
    const id = vocab[t];
    if (typeof id !== 'number') throw new DpipeError('E_MODEL_FOLDER', `vocab.json has no ${what} token "${t}"`);
    return id;
  };
  const special = (t: string, what: string) => ({ id: idOf(t, what), content: t, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true });
  const added = [special(bos, 'start'), special(eos, 'end')];
  const pad = tokenText(config.pad_token);
  // transformers registers the padding token as a special token too (SD 2.x and SDXL's second tokenizer pad with "!",
  // so a "!" in the prompt is that one id, not "!</w>").
  if (pad && pad !== bos && pad !== eos && vocab[pad] !== undefined) added.push(special(pad, 'padding'));
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: CLIP_PATTERN }, behavior: 'Removed', invert: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: { type: 'RobertaProcessing', sep: [eos, idOf(eos, 'end')], cls: [bos, idOf(bos, 'start')], trim_offsets: false, add_prefix_space: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: unk,
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}

/**
 * Loads the tokenizer of a tokenizer folder. Errors: E_MODEL_FOLDER naming the folder when neither tokenizer.json
 * nor a CLIP vocab.json + merges.txt pair is there, or when the files do not agree.
 */
export async function loadTokenizer(dir: string): Promise<PromptTokenizer> {
  const config = (await readJson(path.join(dir, 'tokenizer_config.json'))) ?? {};
  const specials = (await readJson(path.join(dir, 'special_tokens_map.json'))) ?? {};
  const merged: Json = { ...specials, ...config };
  let json = await readJson(path.join(dir, 'tokenizer.json'));
  if (!json) {
    const vocab = await readJson(path.join(dir, 'vocab.json'));
    let merges: string | undefined;
    try {
      merges = await fsp.readFile(path.join(dir, 'merges.txt'), 'utf8');
    } catch {
      merges = undefined;
    }
    if (!vocab || merges === undefined) {
      const spm = await fsp.stat(path.join(dir, 'spiece.model')).then(() => true, () => false);
      throw new DpipeError(
        'E_MODEL_FOLDER',
        `${dir}: no tokenizer.json, and no vocab.json + merges.txt pair${spm ? ' (a SentencePiece spiece.model alone is not read: save the tokenizer with its tokenizer.json, e.g. AutoTokenizer.from_pretrained(...).save_pretrained(...) with the fast tokenizer)' : ''}`,
      );
    }
    const cls = typeof config.tokenizer_class === 'string' ? config.tokenizer_class : 'CLIPTokenizer';
    if (!/^CLIPTokenizer/.test(cls)) {
      throw new DpipeError('E_MODEL_FOLDER', `${dir}: tokenizer_class "${cls}" without a tokenizer.json; dpipe reads vocab.json + merges.txt only for CLIPTokenizer`);
    }
    json = clipTokenizerJson(vocab as Record<string, number>, merges, merged);
  }
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(json, merged);
  } catch (e) {
    throw new DpipeError('E_MODEL_FOLDER', `${dir}: the tokenizer cannot be built: ${(e as Error).message}`);
  }
  const maxRaw = config.model_max_length;
  // Some exports write a huge sentinel (1e30) for "no limit"; diffusers' CLIP pipelines then still use 77.
  const maxLength = typeof maxRaw === 'number' && maxRaw > 0 && maxRaw < 1e6 ? maxRaw : 77;
  const padText = tokenText(merged.pad_token) ?? tokenText(merged.eos_token);
  const padId = padText !== undefined ? tok.token_to_id(padText) : undefined;
  if (padId === undefined) throw new DpipeError('E_MODEL_FOLDER', `${dir}: the padding token "${padText ?? '(none)'}" is not in the vocabulary`);
  return {
    dir,
    maxLength,
    padId,
    encode(text: string, max = maxLength): TokenizedPrompt {
      const full = tok.encode(text).ids;
      if (full.length <= max) return { ids: [...full, ...new Array<number>(max - full.length).fill(padId)], length: full.length, dropped: 0, droppedText: '' };
      const content = tok.encode(text, { add_special_tokens: false }).ids;
      const nSpecial = full.length - content.length;
      // Where the content sits among the special tokens (CLIP: one before, one after; T5: one after).
      let p = 0;
      while (p <= nSpecial && !content.every((id, i) => full[p + i] === id)) p++;
      if (p > nSpecial) throw new DpipeError('E_INTERNAL', `${dir}: cannot locate the prompt among its special tokens`);
      const keep = max - nSpecial;
      if (keep < 0) throw new DpipeError('E_MODEL_FOLDER', `${dir}: model_max_length ${max} is shorter than the special tokens`);
      const ids = [...full.slice(0, p), ...content.slice(0, keep), ...full.slice(p + content.length)];
      const droppedIds = content.slice(keep);
      return { ids, length: full.length, dropped: droppedIds.length, droppedText: tok.decode(droppedIds, { skip_special_tokens: true }) };
    },
  };
}
