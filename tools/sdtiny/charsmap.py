"""A sentencepiece-style `precompiled_charsmap` (the blob of tokenizer.json's `Precompiled` normalizer), built
from our own character table, and a reader that looks strings up the way the Rust `spm_precompiled` crate does.

Blob format (sentencepiece normalizer / spm_precompiled): u32 little-endian byte size of the trie, the trie as
darts-clone double-array units (u32 LE each), then the replacement strings, each NUL-terminated. A trie key is
the UTF-8 of the text to replace; its value is the byte offset of the replacement in the string blob.
Double-array unit (32 bits): bits 0-7 label, bit 8 has_leaf, bit 9 offset-shift flag (unused here: 0),
bits 10-31 offset; a child of the node at `pos` with byte c sits at `pos ^ offset ^ c` and must carry label c;
a node with has_leaf has its value unit at `pos ^ offset` (label 0 slot) = value | 1 << 31.

Our table (TABLE, one entry per code point, no multi-character keys), chosen to be what tokenizers.js's
Precompiled stand-in computes character by character and what sentencepiece's nmt_nfkc rule does for
ordinary text:
- C0/C1 controls U+0001-0008, U+000B, U+000E-001F, U+007F, U+008F, U+009F -> removed;
- U+0009, U+000A, U+000C, U+000D, U+00A0, U+1680, U+2000-200F, U+2028, U+2029, U+202F, U+205F, U+2581,
  U+3000, U+FEFF, U+FFFD -> one space;
- every other code point whose NFKC form differs (Python's unicodedata) -> its NFKC form, except U+FF5E
  (fullwidth tilde), which nmt_nfkc keeps.
Because keys are single characters, text where NFKC composes across characters (a letter followed by a
combining mark) is not composed; the fixture prompts avoid such text.
"""
import base64
import struct
import sys
import unicodedata

REMOVE = [*range(0x01, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F, 0x8F, 0x9F]
SPACE = [0x09, 0x0A, 0x0C, 0x0D, 0xA0, 0x1680, *range(0x2000, 0x2010), 0x2028, 0x2029, 0x202F, 0x205F, 0x2581,
         0x3000, 0xFEFF, 0xFFFD]
KEEP = {0xFF5E}


def table() -> dict:
    t = {}
    for cp in range(1, sys.maxunicode + 1):
        if 0xD800 <= cp <= 0xDFFF or cp in KEEP:
            continue
        c = chr(cp)
        n = unicodedata.normalize('NFKC', c)
        if n != c:
            t[c] = n
    for cp in REMOVE:
        t[chr(cp)] = ''
    for cp in SPACE:
        t[chr(cp)] = ' '
    return t


TABLE = table()


def build(mapping: dict = None) -> bytes:
    mapping = TABLE if mapping is None else mapping
    strings = bytearray()
    offsets = {}
    trie = {}  # byte -> child dict; key None -> value
    for key in sorted(mapping):
        rep = mapping[key]
        if rep not in offsets:
            offsets[rep] = len(strings)
            strings += rep.encode('utf-8') + b'\0'
        node = trie
        for b in key.encode('utf-8'):
            node = node.setdefault(b, {})
        node[None] = offsets[rep]
    units = [0] * 256
    used = bytearray(256)
    used_bases = set()

    def ensure(n):
        while len(units) < n:
            units.extend([0] * 256)
            used.extend(bytearray(256))

    used[0] = 1
    queue = [(0, trie)]  # (position of the node's unit, node)
    free_from = 1
    while queue:
        pos, node = queue.pop(0)
        labels = sorted(k for k in node if k is not None)
        slots = labels + ([0] if None in node else [])
        while used[free_from] if free_from < len(used) else False:
            free_from += 1
        base = None
        cand = free_from
        while base is None:
            ensure(cand + 512)
            b = cand ^ slots[0]
            ensure((b | 0xFF) + 1)
            if b > 0 and b not in used_bases and all(not used[b ^ s] and (b ^ s) != 0 for s in slots):
                base = b
            cand += 1
            while cand < len(used) and used[cand]:
                cand += 1
        used_bases.add(base)
        for s in slots:
            used[base ^ s] = 1
        has_leaf = 1 if None in node else 0
        units[pos] = ((pos ^ base) << 10) | (has_leaf << 8) | (units[pos] & 0xFF)
        if has_leaf:
            units[base] = node[None] | (1 << 31)
        for lab in labels:
            child = base ^ lab
            units[child] = lab
            queue.append((child, node[lab]))
    while units and units[-1] == 0:
        units.pop()
    trie_bytes = b''.join(struct.pack('<I', u) for u in units)
    return struct.pack('<I', len(trie_bytes)) + trie_bytes + bytes(strings)


class Charsmap:
    """Reads a blob; `longest(s, i)` = (byte length, replacement) of the longest key at s's byte offset i
    (spm_precompiled's longest_prefix_search), or None."""

    def __init__(self, blob: bytes):
        (size,) = struct.unpack_from('<I', blob, 0)
        self.units = list(struct.unpack_from(f'<{size // 4}I', blob, 4))
        self.strings = blob[4 + size:]

    def _replacement(self, off: int) -> str:
        end = self.strings.index(b'\0', off)
        return self.strings[off:end].decode('utf-8')

    def longest(self, data: bytes, start: int = 0):
        u = self.units
        pos = 0
        pos ^= (u[0] >> 10)
        result = None
        for i in range(start, len(data)):
            c = data[i]
            if c == 0:
                break
            pos ^= c
            if pos >= len(u):
                break
            unit = u[pos]
            if (unit & 0x800000FF) != c:
                break
            pos ^= (unit >> 10) << ((unit & (1 << 9)) >> 6)
            if (unit >> 8) & 1:
                result = (i + 1 - start, self._replacement(u[pos] & 0x7FFFFFFF))
        return result

    def normalize(self, text: str) -> str:
        data = text.encode('utf-8')
        out = []
        i = 0
        while i < len(data):
            hit = self.longest(data, i)
            if hit:
                out.append(hit[1])
                i += hit[0]
            else:
                n = 1
                while i + n < len(data) and (data[i + n] & 0xC0) == 0x80:
                    n += 1
                out.append(data[i:i + n].decode('utf-8'))
                i += n
        return ''.join(out)


def encoded() -> str:
    return base64.b64encode(build()).decode('ascii')


if __name__ == '__main__':
    blob = build()
    cm = Charsmap(blob)
    bad = [k for k, v in TABLE.items() if cm.normalize(k) != v]
    probe = ''.join(chr(c) for c in range(0x20, 0x3000) if chr(c) not in TABLE and not 0xD800 <= c <= 0xDFFF)
    print(len(TABLE), 'entries,', len(blob), 'bytes; mismatches:', len(bad), '; identity probe ok:',
          cm.normalize(probe) == probe)
