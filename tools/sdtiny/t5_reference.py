"""Reference implementation of the T5 (sentencepiece Unigram) tokenizer as SD3's `tokenizer_3` tokenizer.json
defines it, written from the Hugging Face tokenizers algorithm (normalizer -> Metaspace pre-tokenizer -> Unigram
Viterbi -> template "$A </s>"):

1. Normalizer, in order: Precompiled (our charsmap, see charsmap.py: per character, controls removed, odd spaces
   to " ", NFKC), Strip(right) (trailing whitespace removed), Replace(regex " {2,}" -> "▁").
2. Metaspace(replacement "▁", prepend_scheme "always", split true): spaces become "▁", a "▁" is prepended unless
   the text starts with one, and the text is split before every "▁" (each word starts with "▁").
3. Unigram per word: Viterbi over pieces (best total score = sum of piece log-probabilities), as the Rust
   `encode_optimized`: positions left to right, candidates from shortest to longest piece, a strictly better
   score replaces the stored one; a character that no single-character piece covers gets an <unk> node with
   score min_score - 10; consecutive <unk> results are fused into one <unk> token (as Rust tokenizers,
   sentencepiece and tokenizers.js do).
4. Ids + </s> (id 1); with padding="max_length", max_length=256, truncation=True (diffusers' SD3
   `_get_t5_prompt_embeds`): the first 255 tokens, </s>, then <pad> (id 0).

    /usr/bin/python3 tools/sdtiny/t5_reference.py       # writes test/fixtures/sd/tokens/t5.json
"""
import base64
import json
import os
import re

from charsmap import Charsmap

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
UNK_PENALTY = 10.0


class T5Tokenizer:
    def __init__(self, tokenizer_json: dict):
        norm = tokenizer_json['normalizer']['normalizers']
        self.charsmap = Charsmap(base64.b64decode(norm[0]['precompiled_charsmap']))
        model = tokenizer_json['model']
        self.vocab = [(p, s) for p, s in model['vocab']]
        self.ids = {p: i for i, (p, _) in enumerate(self.vocab)}
        self.unk_id = model['unk_id']
        self.min_score = min(s for _, s in self.vocab)
        self.max_len = max(len(p) for p, _ in self.vocab)
        self.pad_id = self.ids['<pad>']
        self.eos_id = self.ids['</s>']

    def normalize(self, text: str) -> str:
        text = self.charsmap.normalize(text).rstrip()
        return re.sub(' {2,}', '\u2581', text)

    def words(self, text: str) -> list:
        s = self.normalize(text).replace(' ', '\u2581')
        if not s:
            return []
        if not s.startswith('\u2581'):
            s = '\u2581' + s
        return re.findall('\u2581[^\u2581]*', s)

    def viterbi(self, word: str) -> list:
        """Pieces of one word (list of (text, id)), fused unknowns included."""
        n = len(word)
        best = [None] * (n + 1)  # (score, start, id)
        best[0] = (0.0, None, None)
        for start in range(n):
            here = best[start][0] if best[start] else 0.0
            single = False
            for end in range(start + 1, min(n, start + self.max_len) + 1):
                piece = word[start:end]
                i = self.ids.get(piece)
                if i is None:
                    continue
                cand = here + self.vocab[i][1]
                if best[end] is None or best[end][1] is None or cand > best[end][0]:
                    best[end] = (cand, start, i)
                if end == start + 1:
                    single = True
            if not single:
                cand = here + self.min_score - UNK_PENALTY
                if best[start + 1] is None or best[start + 1][1] is None or cand > best[start + 1][0]:
                    best[start + 1] = (cand, start, self.unk_id)
        out = []
        end = n
        while end > 0:
            _, start, i = best[end]
            text = word[start:end]
            if i == self.unk_id and out and out[-1][1] == self.unk_id:
                out[-1] = (text + out[-1][0], i)
            else:
                out.append((text, i))
            end = start
        return list(reversed(out))

    def pieces(self, text: str) -> list:
        return [p for w in self.words(text) for p in self.viterbi(w)]

    def encode(self, text: str, max_length: int = 256) -> tuple:
        """(ids padded/truncated to max_length with </s>, untruncated length incl. </s>)."""
        body = [i for _, i in self.pieces(text)]
        length = len(body) + 1
        ids = body[:max_length - 1] + [self.eos_id]
        return ids + [self.pad_id] * (max_length - len(ids)), length


PROMPTS = [
    ('empty', ''),
    ('astronaut', 'a photo of an astronaut riding a horse on mars'),
    ('sd3', 'a red fox in a forest, oil painting, golden hour'),
    ('case', 'A Photo Of An ASTRONAUT'),
    ('punctuation', 'hello, world! (yes) - ok; "quoted"'),
    ('digits', '1920s, 35mm, 8k, version 2.0, f/1.8'),
    ('spaces', '  a   cat \t on\n a  mat'),
    ('trailing_space', 'a cat   '),
    ('accents', 'café naïve résumé jalapeño crème brûlée'),
    ('nfkc', 'ﬁne ＡＢＣ １２３ ① ½ x²'),
    ('controls', 'a\u0007b\u200bc\u00a0d'),
    ('unknown', '東京の夜景 at night 🐱'),
    ('apostrophes', "it's the cat's toy, don't stop"),
    ('negative', 'blurry, low quality'),
    ('long', ', '.join(['a highly detailed matte painting of a mountain village at golden hour'] * 30)),
]


def main() -> None:
    folder = os.path.join(ROOT, 'test', 'fixtures', 'sd', 'tiny-sd3', 'tokenizer_3')
    with open(os.path.join(folder, 'tokenizer.json'), encoding='utf-8') as f:
        tok = T5Tokenizer(json.load(f))
    entries = []
    for name, text in PROMPTS:
        ids, length = tok.encode(text)
        entries.append({'name': name, 'text': text, 'ids': ids, 'length': length,
                        'pieces': [p for p, _ in tok.pieces(text)][:60]})
    out = {
        'description': 'Token ids of the tiny T5 Unigram tokenizer (test/fixtures/sd/tiny-sd3/tokenizer_3/tokenizer.json) '
                       'computed by tools/sdtiny/t5_reference.py: Precompiled charsmap, Strip(right), " {2,}" -> "▁", '
                       'Metaspace(always, split), Unigram Viterbi with fused <unk>, then </s>.',
        'vocab_size': len(tok.vocab), 'pad_id': tok.pad_id, 'eos_id': tok.eos_id, 'unk_id': tok.unk_id,
        'max_length': 256,
        'fields': {
            'ids': 'padding="max_length", max_length=256, truncation=True, add_special_tokens=True (diffusers SD3): '
                   'first 255 tokens + </s> + <pad>...',
            'length': 'untruncated length including </s>',
            'pieces': 'the Unigram pieces (at most 60), for debugging; consecutive unknown characters form one <unk>',
        },
        'prompts': entries,
    }
    dest = os.path.join(ROOT, 'test', 'fixtures', 'sd', 'tokens')
    os.makedirs(dest, exist_ok=True)
    with open(os.path.join(dest, 't5.json'), 'w', encoding='utf-8') as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write('\n')
    print(f'wrote {len(entries)} prompts to tokens/t5.json')


if __name__ == '__main__':
    main()
