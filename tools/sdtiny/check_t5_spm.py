"""Checks the T5 tokenizer fixture against Google's sentencepiece: builds a sentencepiece Unigram ModelProto from
tiny-sd3/tokenizer_3/tokenizer.json (its vocabulary and scores, and its Precompiled charsmap as the normalizer's
precompiled_charsmap, with sentencepiece's usual whitespace handling: dummy prefix, extra whitespace removed,
spaces escaped as "▁") and compares sentencepiece's ids (+ </s>) with t5_reference.py for every prompt of
tokens/t5.json. Needs Debian's python3-sentencepiece (it ships sentencepiece_model_pb2).

    /usr/bin/python3 tools/sdtiny/check_t5_spm.py        # exits 1 on a mismatch
"""
import base64
import json
import os
import sys
import tempfile

import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as pb

import t5_reference

HERE = os.path.dirname(os.path.abspath(__file__))
TOK = os.path.join(os.path.dirname(os.path.dirname(HERE)), 'test', 'fixtures', 'sd', 'tiny-sd3', 'tokenizer_3',
                   'tokenizer.json')


def main() -> int:
    with open(TOK, encoding='utf-8') as f:
        tj = json.load(f)
    m = pb.ModelProto()
    m.trainer_spec.model_type = pb.TrainerSpec.UNIGRAM
    m.trainer_spec.unk_id, m.trainer_spec.pad_id, m.trainer_spec.eos_id, m.trainer_spec.bos_id = 2, 0, 1, -1
    m.normalizer_spec.name = 'tiny_charsmap'
    m.normalizer_spec.precompiled_charsmap = base64.b64decode(tj['normalizer']['normalizers'][0]['precompiled_charsmap'])
    m.normalizer_spec.add_dummy_prefix = True
    m.normalizer_spec.remove_extra_whitespaces = True
    m.normalizer_spec.escape_whitespaces = True
    kinds = {0: pb.ModelProto.SentencePiece.CONTROL, 1: pb.ModelProto.SentencePiece.CONTROL,
             2: pb.ModelProto.SentencePiece.UNKNOWN}
    for i, (piece, score) in enumerate(tj['model']['vocab']):
        p = m.pieces.add()
        p.piece, p.score = piece, score
        p.type = kinds.get(i, pb.ModelProto.SentencePiece.USER_DEFINED if piece.startswith('<extra_id_')
                           else pb.ModelProto.SentencePiece.NORMAL)
    with tempfile.NamedTemporaryFile(suffix='.model', delete=False) as f:
        f.write(m.SerializeToString())
    sp = spm.SentencePieceProcessor(model_file=f.name)
    os.remove(f.name)
    tok = t5_reference.T5Tokenizer(tj)
    bad = 0
    for name, text in t5_reference.PROMPTS:
        want = sp.encode(text) + [tok.eos_id]
        got = [i for _, i in tok.pieces(text)] + [tok.eos_id]
        if want != got:
            bad += 1
            print(f'{name}: sentencepiece {want[:16]} vs reference {got[:16]}')
    print(f'{len(t5_reference.PROMPTS) - bad} of {len(t5_reference.PROMPTS)} prompts agree with sentencepiece '
          f'{spm.__version__}')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
