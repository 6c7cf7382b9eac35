"""Trains the tiny T5-style Unigram vocabulary and writes SD3's `tokenizer_3` folder (T5TokenizerFast layout).

Training (our own, small): the words of `corpus.corpus()` as the tokenizer's normalizer / Metaspace pre-tokenizer
produce them (case kept, "▁" before each word); candidate pieces = every character seen plus the substrings of
2-12 characters that occur at least 4 times; then four rounds of hard EM: segment every word with the Viterbi
of t5_reference.py, count the pieces used, score = ln(count / total), drop multi-character pieces never used.
Scores are rounded to 4 decimals and made distinct (the i-th best loses i * 1e-6) so no two segmentations tie.

Vocabulary order (as T5's): 0 <pad>, 1 </s>, 2 <unk>, the pieces by decreasing score, then <extra_id_99> ...
<extra_id_0> (100 sentinel tokens, score 0, as transformers' T5Converter appends them).

tokenizer.json structure (transformers' T5 conversion): normalizer Sequence[Precompiled, Strip(right),
Replace(" {2,}" -> "▁")], pre_tokenizer Metaspace("▁", prepend_scheme "always", split true), model Unigram
(unk_id 2, byte_fallback false), post_processor TemplateProcessing("$A </s>"), decoder Metaspace.
"""
import collections
import functools
import json
import math
import os
import string

import charsmap
from corpus import corpus
from t5_reference import T5Tokenizer

SPECIALS = ['<pad>', '</s>', '<unk>']
EXTRA_IDS = 100


def _added(i: int, content: str) -> dict:
    return {'id': i, 'content': content, 'single_word': False, 'lstrip': False, 'rstrip': False,
            'normalized': False, 'special': True}


@functools.lru_cache(maxsize=None)
def _charsmap() -> str:
    return charsmap.encoded()


def tokenizer_json(pieces: list) -> dict:
    """pieces: [(piece, score)] without specials and extra ids."""
    vocab = [[s, 0.0] for s in SPECIALS] + [[p, s] for p, s in pieces]
    extra = [f'<extra_id_{i}>' for i in range(EXTRA_IDS - 1, -1, -1)]
    first_extra = len(vocab)
    vocab += [[e, 0.0] for e in extra]
    added = [_added(i, s) for i, s in enumerate(SPECIALS)] + [_added(first_extra + k, e) for k, e in enumerate(extra)]
    return {
        'version': '1.0',
        'truncation': None,
        'padding': None,
        'added_tokens': added,
        'normalizer': {'type': 'Sequence', 'normalizers': [
            {'type': 'Precompiled', 'precompiled_charsmap': _charsmap()},
            {'type': 'Strip', 'strip_left': False, 'strip_right': True},
            {'type': 'Replace', 'pattern': {'Regex': ' {2,}'}, 'content': '\u2581'},
        ]},
        'pre_tokenizer': {'type': 'Metaspace', 'replacement': '\u2581', 'prepend_scheme': 'always', 'split': True},
        'post_processor': {
            'type': 'TemplateProcessing',
            'single': [{'Sequence': {'id': 'A', 'type_id': 0}}, {'SpecialToken': {'id': '</s>', 'type_id': 0}}],
            'pair': [{'Sequence': {'id': 'A', 'type_id': 0}}, {'SpecialToken': {'id': '</s>', 'type_id': 0}},
                     {'Sequence': {'id': 'B', 'type_id': 0}}, {'SpecialToken': {'id': '</s>', 'type_id': 0}}],
            'special_tokens': {'</s>': {'id': '</s>', 'ids': [1], 'tokens': ['</s>']}},
        },
        'decoder': {'type': 'Metaspace', 'replacement': '\u2581', 'prepend_scheme': 'always', 'split': True},
        'model': {'type': 'Unigram', 'unk_id': 2, 'vocab': vocab, 'byte_fallback': False},
    }


def train() -> list:
    prompts = corpus()
    probe = T5Tokenizer(tokenizer_json([(c, -1.0) for c in 'ab']))  # normalizer and pre-tokenizer only
    words = collections.Counter()
    for p in prompts:
        for w in probe.words(p):
            words[w] += 1
    subs = collections.Counter()
    chars = set(string.ascii_letters + string.digits + string.punctuation + '\u2581')
    for w, c in words.items():
        chars.update(w)
        for i in range(len(w)):
            for j in range(i + 2, min(len(w), i + 12) + 1):
                subs[w[i:j]] += c
    cands = {s: c for s, c in subs.items() if c >= 4}
    for ch in chars:
        cands[ch] = cands.get(ch, 0) + subs.get(ch, 0) + 1
    total = sum(cands.values())
    scores = {p: math.log(c / total) for p, c in cands.items()}
    for _ in range(4):
        tok = T5Tokenizer(tokenizer_json(sorted(scores.items(), key=lambda x: -x[1])))
        used = collections.Counter()
        for w, c in words.items():
            for piece, _ in tok.viterbi(w):
                used[piece] += c
        total = sum(used.values()) + len(chars)
        scores = {p: math.log((used[p] + (1 if p in chars else 0)) / total)
                  for p in scores if used[p] > 0 or p in chars}
    ranked = sorted(scores.items(), key=lambda x: (-x[1], x[0]))
    return [(p, round(round(s, 4) - i * 1e-6, 6)) for i, (p, s) in enumerate(ranked)]


def load_or_train() -> dict:
    pieces = train()
    tj = tokenizer_json(pieces)
    return {'json': tj, 'vocab': tj['model']['vocab']}


def write_folder(folder: str, t5: dict) -> None:
    os.makedirs(folder, exist_ok=True)
    tj = t5['json']
    with open(os.path.join(folder, 'tokenizer.json'), 'w', encoding='utf-8') as f:
        f.write(json.dumps(tj, indent=2, ensure_ascii=False) + '\n')
    extra = [f'<extra_id_{i}>' for i in range(EXTRA_IDS)]
    added = {str(a['id']): {k: a[k] for k in ('content', 'lstrip', 'normalized', 'rstrip', 'single_word', 'special')}
             for a in tj['added_tokens']}
    config = {
        'add_prefix_space': True, 'added_tokens_decoder': added, 'additional_special_tokens': extra,
        'clean_up_tokenization_spaces': True, 'eos_token': '</s>', 'extra_ids': EXTRA_IDS, 'legacy': True,
        'model_max_length': 512, 'pad_token': '<pad>', 'sp_model_kwargs': {}, 'tokenizer_class': 'T5Tokenizer',
        'unk_token': '<unk>',
    }
    tok = {'content': '', 'lstrip': False, 'normalized': False, 'rstrip': False, 'single_word': False}
    special = {'additional_special_tokens': extra, 'eos_token': {**tok, 'content': '</s>'},
               'pad_token': {**tok, 'content': '<pad>'}, 'unk_token': {**tok, 'content': '<unk>'}}
    for name, obj in (('tokenizer_config.json', config), ('special_tokens_map.json', special)):
        with open(os.path.join(folder, name), 'w', encoding='utf-8') as f:
            f.write(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + '\n')


if __name__ == '__main__':
    p = train()
    print(len(p), 'pieces; best:', p[:8], 'worst:', p[-4:])
