#!/usr/bin/python3
"""Independent PyTorch reference for a llama2.c checkpoint, after llama2.c's model.py.

Usage: llama_reference.py MODEL.bin TOKENS.json [OUT.json] [--int8]

TOKENS.json holds a list of token-id lists. Prints (or writes to OUT.json) a JSON list with, for each
sequence, the logits at every position: [sequence][position][vocab]. Full-sequence causal attention,
no key/value cache, float32 throughout. --int8 rounds each linear layer's input per token to int8
(absmax / 127 scale, round half away from zero), as Nibble's INT8_DYNAMIC does.
"""
import json
import struct
import sys

import numpy as np
import torch


def load(path):
    with open(path, "rb") as f:
        dim, hidden, n_layers, n_heads, n_kv_heads, vocab, seq_len = struct.unpack("<7i", f.read(28))
        data = np.frombuffer(f.read(), dtype="<f4")
    shared = vocab > 0
    vocab = abs(vocab)
    hs = dim // n_heads
    at = 0

    def take(*shape):
        nonlocal at
        n = int(np.prod(shape))
        t = torch.from_numpy(data[at:at + n].copy()).reshape(shape)
        at += n
        return t

    w = {"emb": take(vocab, dim), "rms_att": take(n_layers, dim), "wq": take(n_layers, n_heads * hs, dim),
         "wk": take(n_layers, n_kv_heads * hs, dim), "wv": take(n_layers, n_kv_heads * hs, dim),
         "wo": take(n_layers, dim, n_heads * hs), "rms_ffn": take(n_layers, dim),
         "w1": take(n_layers, hidden, dim), "w2": take(n_layers, dim, hidden), "w3": take(n_layers, hidden, dim),
         "rms_final": take(dim)}
    at += seq_len * hs  # the file's RoPE tables (cos and sin, seq_len * hs/2 each); recomputed below
    w["wcls"] = w["emb"] if shared else take(vocab, dim)
    cfg = dict(dim=dim, n_layers=n_layers, n_heads=n_heads, n_kv_heads=n_kv_heads, hs=hs)
    return cfg, w


def int8_roundtrip(x):
    scale = x.abs().amax(dim=-1, keepdim=True) / 127
    scale = torch.where(scale == 0, torch.ones_like(scale), scale)
    r = x / scale
    q = torch.clamp(torch.sign(r) * torch.floor(r.abs().double() + 0.5).float(), -127, 127)
    return q * scale


def rmsnorm(x, weight, eps=1e-5):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


def rope(x, freqs_cis):
    # x: (seq, heads, hs); llama2.c rotates adjacent pairs, read here as complex numbers.
    xc = torch.view_as_complex(x.reshape(*x.shape[:-1], -1, 2))
    return torch.view_as_real(xc * freqs_cis[:, None, :]).flatten(-2)


def repeat_kv(x, n_rep):
    # x: (seq, kv_heads, hs) -> (seq, kv_heads * n_rep, hs), each kv head serving n_rep query heads.
    return x if n_rep == 1 else torch.repeat_interleave(x, n_rep, dim=1)


def forward(cfg, w, tokens, int8=False):
    lin = (lambda x, m: int8_roundtrip(x) @ m.T) if int8 else (lambda x, m: x @ m.T)
    n, hs, nh, nkv = len(tokens), cfg["hs"], cfg["n_heads"], cfg["n_kv_heads"]
    freqs = 1.0 / (10000.0 ** (torch.arange(0, hs, 2)[: hs // 2].float() / hs))
    freqs_cis = torch.polar(torch.ones(n, hs // 2), torch.outer(torch.arange(n).float(), freqs))
    mask = torch.full((n, n), float("-inf")).triu(1)
    x = w["emb"][torch.tensor(tokens)]
    for l in range(cfg["n_layers"]):
        xb = rmsnorm(x, w["rms_att"][l])
        if int8:
            xb = int8_roundtrip(xb)
        q = rope((xb @ w["wq"][l].T).view(n, nh, hs), freqs_cis)
        k = repeat_kv(rope((xb @ w["wk"][l].T).view(n, nkv, hs), freqs_cis), nh // nkv)
        v = repeat_kv((xb @ w["wv"][l].T).view(n, nkv, hs), nh // nkv)
        scores = torch.einsum("qhd,khd->hqk", q, k) / hs ** 0.5 + mask
        att = torch.einsum("hqk,khd->qhd", torch.softmax(scores, dim=-1), v).reshape(n, nh * hs)
        x = x + lin(att, w["wo"][l])
        xb = rmsnorm(x, w["rms_ffn"][l])
        if int8:
            xb = int8_roundtrip(xb)
        h = torch.nn.functional.silu(xb @ w["w1"][l].T) * (xb @ w["w3"][l].T)
        x = x + lin(h, w["w2"][l])
    return rmsnorm(x, w["rms_final"]) @ w["wcls"].T


def main(argv):
    int8 = "--int8" in argv
    args = [a for a in argv[1:] if a != "--int8"]
    if len(args) not in (2, 3):
        sys.exit(__doc__)
    cfg, w = load(args[0])
    with open(args[1]) as f:
        sequences = json.load(f)
    with torch.no_grad():
        out = [forward(cfg, w, s, int8).tolist() for s in sequences]
    if len(args) == 3:
        with open(args[2], "w") as f:
            json.dump(out, f)
    else:
        json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv)
