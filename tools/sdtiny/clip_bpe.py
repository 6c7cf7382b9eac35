"""Trains the tiny CLIP byte-level BPE vocabulary and writes CLIP tokenizer folders in Hugging Face's layout.

Vocabulary in exactly CLIP's order: the 256 `bytes_to_unicode` characters, the same 256 with `</w>`, one token per
merge (the two symbols joined, in merge order), then `<|startoftext|>` and `<|endoftext|>`. Training is plain
greedy BPE over the word counts of `corpus.corpus()` pre-tokenized as CLIP does (clip_reference.pieces): each step
merges the most frequent adjacent pair (ties: the lexicographically smallest pair), skipping pairs whose joined
string is already a token, until N_MERGES merges or no pair occurs twice.

Folder files (as transformers' CLIPTokenizer / CLIPTokenizerFast `save_pretrained` writes them):
  vocab.json, merges.txt (`#version: 0.2` first line), tokenizer_config.json, special_tokens_map.json,
  and with fast=True also tokenizer.json (the structure transformers' CLIPConverter builds).
"""
import collections
import json
import os

from clip_reference import BOS, BYTE_ENCODER, EOS, pieces
from corpus import corpus

N_MERGES = 1200


def train(n_merges: int = N_MERGES) -> tuple:
    """Returns (vocab: dict token -> id, merges: list of (a, b))."""
    counts = collections.Counter()
    for prompt in corpus():
        for p in pieces(prompt):
            counts[p] += 1
    words = {tuple(p[:-1]) + (p[-1] + '</w>',): c for p, c in counts.items()}
    base = list(BYTE_ENCODER.values())
    vocab_list = base + [b + '</w>' for b in base]
    known = set(vocab_list)
    merges = []
    while len(merges) < n_merges:
        pairs = collections.Counter()
        for w, c in words.items():
            for i in range(len(w) - 1):
                pairs[(w[i], w[i + 1])] += c
        candidates = [(-c, pair) for pair, c in pairs.items() if c >= 2 and pair[0] + pair[1] not in known]
        if not candidates:
            break
        _, (a, b) = min(candidates)
        merges.append((a, b))
        known.add(a + b)
        vocab_list.append(a + b)
        new_words = {}
        for w, c in words.items():
            out = []
            i = 0
            while i < len(w):
                if i < len(w) - 1 and w[i] == a and w[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new_words[tuple(out)] = new_words.get(tuple(out), 0) + c
        words = new_words
    vocab_list += [BOS, EOS]
    return {t: i for i, t in enumerate(vocab_list)}, merges


def _added(content: str, normalized: bool) -> dict:
    return {'content': content, 'lstrip': False, 'normalized': normalized, 'rstrip': False, 'single_word': False}


def write_folder(folder: str, vocab: dict, merges: list, pad: str = 'eos', fast: bool = False) -> None:
    """Writes a CLIP tokenizer folder. pad: 'eos' (SD1.x, SDXL `tokenizer`, SD3 `tokenizer`: pad with
    <|endoftext|>) or 'bang' (SD2.x `tokenizer`, SDXL/SD3 `tokenizer_2`: pad with "!" = id 0, registered as a
    special added token)."""
    os.makedirs(folder, exist_ok=True)
    bos, eos = vocab[BOS], vocab[EOS]
    with open(os.path.join(folder, 'vocab.json'), 'w', encoding='utf-8') as f:
        f.write(json.dumps(vocab, indent=2, sort_keys=True, ensure_ascii=False) + '\n')
    with open(os.path.join(folder, 'merges.txt'), 'w', encoding='utf-8') as f:
        f.write('#version: 0.2\n')
        for a, b in merges:
            f.write(f'{a} {b}\n')
    added = {str(bos): {**_added(BOS, True), 'special': True}, str(eos): {**_added(EOS, True), 'special': True}}
    if pad == 'bang':
        added = {'0': {**_added('!', False), 'special': True}, **added}
    pad_token = EOS if pad == 'eos' else '!'
    config = {
        'add_prefix_space': False,
        'added_tokens_decoder': added,
        'bos_token': BOS,
        'clean_up_tokenization_spaces': True,
        'do_lower_case': True,
        'eos_token': EOS,
        'errors': 'replace',
        'model_max_length': 77,
        'pad_token': pad_token,
        'tokenizer_class': 'CLIPTokenizer',
        'unk_token': EOS,
    }
    _write_json(os.path.join(folder, 'tokenizer_config.json'), config)
    special = {
        'bos_token': _added(BOS, True),
        'eos_token': _added(EOS, True),
        'pad_token': EOS if pad == 'eos' else _added('!', False),
        'unk_token': _added(EOS, True),
    }
    _write_json(os.path.join(folder, 'special_tokens_map.json'), special)
    if fast:
        _write_json(os.path.join(folder, 'tokenizer.json'), tokenizer_json(vocab, merges, pad), sort_keys=False)


def tokenizer_json(vocab: dict, merges: list, pad: str) -> dict:
    """The fast tokenizer's tokenizer.json (structure of transformers' CLIPConverter)."""
    bos, eos = vocab[BOS], vocab[EOS]

    def tok(i, content, normalized):
        return {'id': i, 'content': content, 'single_word': False, 'lstrip': False, 'rstrip': False,
                'normalized': normalized, 'special': True}

    added = ([tok(0, '!', False)] if pad == 'bang' else []) + [tok(bos, BOS, True), tok(eos, EOS, True)]
    return {
        'version': '1.0',
        'truncation': None,
        'padding': None,
        'added_tokens': added,
        'normalizer': {'type': 'Sequence', 'normalizers': [
            {'type': 'NFC'},
            {'type': 'Replace', 'pattern': {'Regex': r'\s+'}, 'content': ' '},
            {'type': 'Lowercase'},
        ]},
        'pre_tokenizer': {'type': 'Sequence', 'pretokenizers': [
            {'type': 'Split', 'pattern': {'Regex': r"""'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""},
             'behavior': 'Removed', 'invert': True},
            {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': True},
        ]},
        'post_processor': {'type': 'RobertaProcessing', 'sep': [EOS, eos], 'cls': [BOS, bos],
                           'trim_offsets': False, 'add_prefix_space': False},
        'decoder': {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': True, 'use_regex': True},
        'model': {'type': 'BPE', 'dropout': None, 'unk_token': EOS, 'continuing_subword_prefix': '',
                  'end_of_word_suffix': '</w>', 'fuse_unk': False, 'byte_fallback': False, 'ignore_merges': False,
                  'vocab': vocab, 'merges': [f'{a} {b}' for a, b in merges]},
    }


def _write_json(path: str, obj, sort_keys: bool = True) -> None:
    with open(path, 'w', encoding='utf-8') as f:
        f.write(json.dumps(obj, indent=2, sort_keys=sort_keys, ensure_ascii=False) + '\n')


if __name__ == '__main__':
    v, m = train()
    print(len(v), 'tokens,', len(m), 'merges; last merges:', m[-5:])
