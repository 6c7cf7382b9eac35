"""Reference implementation of the CLIP text tokenizer, written from the algorithm of openai/CLIP's
`simple_tokenizer.py` (and checked against what Hugging Face's fast `CLIPTokenizerFast` / tokenizer.json does):

1. Text cleanup. openai's `basic_clean` runs `ftfy.fix_text` and `html.unescape` twice; ftfy is not installed
   here and the Hugging Face fast tokenizer (tokenizer.json) runs neither. This reference does what tokenizer.json
   does: Unicode NFC (the part of ftfy.fix_text's default that matters for ordinary text), then every run of
   whitespace (`\\s+`) becomes one space, then lower case (Python's full Unicode `str.lower`). No HTML unescaping:
   `&amp;` stays four characters (openai's tokenizer would turn it into `&`; no fixture prompt contains an entity).
2. Pre-tokenization: `regex.findall` of
   `'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+` (digits one per token; whitespace dropped).
3. Each piece's UTF-8 bytes are mapped through GPT-2/CLIP's `bytes_to_unicode` table.
4. BPE: the last symbol of the piece carries the `</w>` suffix; repeatedly merge the adjacent pair with the
   lowest merge rank (all its non-overlapping occurrences, left to right) until no pair is a known merge.
5. Ids: `<|startoftext|>` + tokens + `<|endoftext|>`; `padding="max_length", max_length=77, truncation=True`
   keeps BOS, the first 75 tokens and EOS, then pads with the tokenizer's pad token.

Hugging Face quirks reproduced as named options (see `encode`):
- `split_specials=['!']`: SD 2.x and SDXL's `tokenizer_2` declare `!` (id 0) as the pad token and register it as
  a *special added token* in tokenizer_config.json / tokenizer.json. transformers then cuts the text at every `!`
  before BPE and maps each `!` to id 0 (diffusers issue #4153), so `wow!!` tokenizes as `wow</w> 0 0` instead
  of `wow</w> !!</w>`. openai's tokenizer does not do this.
- The slow `CLIPTokenizer` without ftfy installed uses BERT's BasicTokenizer for cleanup, which puts spaces
  around every CJK ideograph (so `東京` becomes two pieces). tokenizer.json and openai's tokenizer keep `東京`
  as one piece. This reference follows tokenizer.json.

    /usr/bin/python3 tools/sdtiny/clip_reference.py      # writes test/fixtures/sd/tokens/clip.json
"""
import json
import os
import unicodedata

import regex

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

PATTERN = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""")
BOS = '<|startoftext|>'
EOS = '<|endoftext|>'


def bytes_to_unicode() -> dict:
    """GPT-2/CLIP's reversible byte -> printable character table (printable Latin-1 bytes map to themselves,
    the other 68 bytes to U+0100 upwards, in byte order). Dict order is CLIP's vocabulary order."""
    printable = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + \
        list(range(ord('®'), ord('ÿ') + 1))
    table = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return table


BYTE_ENCODER = bytes_to_unicode()


def clean(text: str) -> str:
    """Step 1: NFC, whitespace runs -> one space, lower case (see the module doc)."""
    text = unicodedata.normalize('NFC', text)
    text = regex.sub(r'\s+', ' ', text)
    return text.lower()


def pieces(text: str) -> list:
    """Steps 1-3: the byte-encoded pre-tokenized pieces of a text."""
    return [''.join(BYTE_ENCODER[b] for b in p.encode('utf-8')) for p in PATTERN.findall(clean(text))]


def bpe(piece: str, ranks: dict) -> list:
    """Step 4: greedy lowest-rank BPE of one byte-encoded piece; returns the symbols (last one ends in </w>)."""
    word = list(piece[:-1]) + [piece[-1] + '</w>']
    while len(word) > 1:
        best = None
        for i in range(len(word) - 1):
            r = ranks.get((word[i], word[i + 1]))
            if r is not None and (best is None or r < best[0]):
                best = (r, word[i], word[i + 1])
        if best is None:
            break
        _, a, b = best
        merged = []
        i = 0
        while i < len(word):
            if i < len(word) - 1 and word[i] == a and word[i + 1] == b:
                merged.append(a + b)
                i += 2
            else:
                merged.append(word[i])
                i += 1
        word = merged
    return word


class ClipTokenizer:
    """A CLIP BPE tokenizer from a `vocab.json` and a `merges.txt` (first line `#version: ...`)."""

    def __init__(self, folder: str):
        with open(os.path.join(folder, 'vocab.json'), encoding='utf-8') as f:
            self.vocab = json.load(f)
        with open(os.path.join(folder, 'merges.txt'), encoding='utf-8') as f:
            lines = f.read().strip().split('\n')[1:]
        self.ranks = {tuple(line.split()): i for i, line in enumerate(lines)}
        self.bos = self.vocab[BOS]
        self.eos = self.vocab[EOS]

    def tokens(self, text: str, split_specials=()) -> list:
        """The token ids of a text without BOS/EOS. `split_specials`: added special tokens (text -> id) that
        transformers cuts out of the text before BPE (see the module doc)."""
        if split_specials:
            out = []
            seg = ''
            for ch in text:
                if ch in split_specials:
                    out += self.tokens(seg)
                    out.append(split_specials[ch])
                    seg = ''
                else:
                    seg += ch
            return out + self.tokens(seg)
        ids = []
        for p in pieces(text):
            ids += [self.vocab[s] for s in bpe(p, self.ranks)]
        return ids

    def encode(self, text: str, max_length: int = 77, pad_id: int = None, split_specials=()) -> tuple:
        """(ids padded/truncated to max_length, untruncated length incl. BOS and EOS)."""
        body = self.tokens(text, split_specials)
        length = len(body) + 2
        body = body[:max_length - 2]
        ids = [self.bos] + body + [self.eos]
        pad = self.eos if pad_id is None else pad_id
        return ids + [pad] * (max_length - len(ids)), length


LONG_PROMPT = ', '.join([
    'a highly detailed matte painting of a vast mountain village at golden hour',
    'with a waterfall, a wooden bridge, a clock tower and a hot air balloon above the clouds',
    'people walking in the market, a bakery, a library and a temple in the background',
    'volumetric light, god rays, cinematic still, octane render, unreal engine, trending on artstation',
    'intricate, sharp focus, 8k, award winning, masterpiece, best quality, vivid colors, depth of field',
    'by a team of illustrators, concept art, fantasy, epic scale, wide angle, 35mm, film grain',
])

PROMPTS = [
    ('empty', ''),
    ('space', ' '),
    ('whitespace_runs', '  a   photo \t of\n\n a  cat  '),
    ('astronaut', 'a photo of an astronaut riding a horse on mars'),
    ('upper_case', 'A PHOTO OF An Astronaut'),
    ('punctuation', 'hello, world! how are you?'),
    ('punct_runs', 'wow!!! really?! ... (yes) [no] {maybe} -- ok;'),
    ('bang_only', '!'),
    ('bangs_mixed', '! !! !!! a!b'),
    ('apostrophes', "it's the cat's toy, they're here, we've gone, i'm ok, you'll see, he'd go, don't"),
    ('apostrophe_upper', "IT'S THE CAT'S"),
    ('quotes', '"quoted" and \'single\' and `back`'),
    ('digits', '1920s 35mm 8k 4k 2077 007'),
    ('decimal', 'version 2.0, f/1.8, 3.14159'),
    ('number_words', 'room 101 has 12 stars and 3 apples'),
    ('accents', 'café naïve résumé façade jalapeño'),
    ('accents_upper', 'CAFÉ NAÏVE'),
    ('decomposed_accent', 'cafe\u0301 (decomposed e + combining acute)'),
    ('german', 'über doppelgänger smörgåsbord straße'),
    ('french', 'crème brûlée, déjà vu'),
    ('cjk', '東京の夜景'),
    ('cjk_mixed', 'a cat in 東京 at night'),
    ('korean', '서울 야경'),
    ('emoji', 'a cat 🐱 with a hat 🎩'),
    ('emoji_only', '🚀🌙'),
    ('emoji_zwj', 'family 👨\u200d👩\u200d👧'),
    ('symbols', '100% of $5 & #tags @user ~tilde ^caret'),
    ('math', '1+1=2, x*y, a/b, <tag> | pipe'),
    ('hyphen_underscore', 'close-up full_body ukiyo-e'),
    ('unknown_words', 'xylophonic quixotry zzzz'),
    ('repeated_letters', 'aaaaaaaaaaaaaaaa bbbb'),
    ('mixed_case_word', 'PhotoRealistic HDR iPhone'),
    ('long_word', 'supercalifragilisticexpialidocious'),
    ('negative', 'blurry, low quality'),
    ('negative_long', 'worst quality, low quality, jpeg artifacts, watermark, text, signature, deformed'),
    ('tab_newline', 'line one\nline two\tcolumn'),
    ('nbsp', 'a\u00a0cat\u2003sitting'),
    ('greek_cyrillic', 'αβγ кошка'),
    ('arabic', 'قطة جميلة'),
    ('fullwidth', 'ＡＢＣ　１２３'),
    ('ligature', 'ﬁne ﬂowers'),
    ('exactly_75', ' '.join(['cat'] * 75)),
    ('exactly_76', ' '.join(['cat'] * 76)),
    ('long', LONG_PROMPT),
    ('very_long', ' '.join(['a red fox in a forest'] * 30)),
]


def main() -> None:
    folder = os.path.join(ROOT, 'test', 'fixtures', 'sd', 'tiny-sd15', 'tokenizer')
    tok = ClipTokenizer(folder)
    entries = []
    for name, text in PROMPTS:
        ids, length = tok.encode(text)
        ids_bang, length_bang = tok.encode(text, pad_id=0, split_specials={'!': 0})
        e = {'name': name, 'text': text, 'ids': ids, 'length': length,
             'ids_pad_bang': ids_bang, 'length_pad_bang': length_bang,
             'pieces': [s for p in pieces(text) for s in bpe(p, tok.ranks)][:80]}
        entries.append(e)
    out = {
        'description': 'Token ids of the tiny CLIP BPE tokenizer (test/fixtures/sd/*/tokenizer*/, all folders share '
                       'one vocabulary) for prompts, computed by tools/sdtiny/clip_reference.py (openai CLIP '
                       'algorithm as tokenizer.json runs it: NFC, whitespace runs -> one space, lower case, CLIP '
                       'regex, byte-level BPE with </w>; no ftfy, no HTML unescaping).',
        'vocab_size': len(tok.vocab), 'bos_id': tok.bos, 'eos_id': tok.eos, 'max_length': 77,
        'fields': {
            'ids': 'padding="max_length", max_length=77, truncation=True, pad = <|endoftext|> (tokenizer of '
                   'SD1.x / SDXL text_encoder / SD3 tokenizer): [BOS] + first 75 tokens + [EOS] + pad',
            'length': 'untruncated length including BOS and EOS (what padding="longest" would give)',
            'ids_pad_bang': 'the same for a tokenizer whose pad token is "!" (id 0) registered as a special added '
                            'token (SD2.x tokenizer, SDXL/SD3 tokenizer_2), as transformers tokenizes: every "!" '
                            'in the text becomes id 0 before BPE, padding with 0',
            'length_pad_bang': 'untruncated length for that tokenizer',
            'pieces': 'BPE symbols of the standard tokenization (at most 80), for debugging',
        },
        'prompts': entries,
    }
    dest = os.path.join(ROOT, 'test', 'fixtures', 'sd', 'tokens')
    os.makedirs(dest, exist_ok=True)
    with open(os.path.join(dest, 'clip.json'), 'w', encoding='utf-8') as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write('\n')
    print(f'wrote {len(entries)} prompts to tokens/clip.json')


if __name__ == '__main__':
    main()
