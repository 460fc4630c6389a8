#!/usr/bin/env python3
# Feasibility check for a Q4_K-style scheme (docs/BENCHMARKS.md, issue 12): super-blocks of 256 values = 8
# sub-blocks of 32, asymmetric 4-bit codes, each sub-block's scale and minimum stored as 6-bit integers times two
# F16 factors per super-block (4 + (2*16 + 8*12)/256 = 4.5 bits per weight, as ggml's Q4_K). Prints the SQNR of
# four ways to choose the sub-block scale and minimum: min/max; min/max then two least-squares refits of (scale,
# min) for the codes; a search over 6x6 clip ratios of the low and high ends; both. Numpy, float64; not Nibble code.
# Usage: .venv/bin/python bin/kquant-proto.py rows.f32   (raw little-endian F32, a multiple of 256 values; the
# bench rows: java $FLAGS -cp <test classpath> nibble.common.bench.KernelSqnr rows.f32 rtnInt4G32)
import numpy as np, sys
x = np.fromfile(sys.argv[1], dtype='<f4').astype(np.float64).reshape(-1, 32)  # sub-blocks
ratios = np.array([(50 - k) / 50 for k in range(26)])
def fit(x, search, lsq):
    lo = np.minimum(x.min(1), 0); hi = np.maximum(x.max(1), 0)
    best_e = np.full(len(x), np.inf); best_s = np.zeros(len(x)); best_m = np.zeros(len(x))
    cand = [(1.0, 1.0)] if not search else [(a, b) for a in ratios[:16:3] for b in ratios[:16:3]]
    for a, b in cand:
        l, h = lo * a, hi * b
        s = np.maximum((h - l) / 15, 1e-30); m = -l
        q = np.clip(np.rint((x + m[:, None]) / s[:, None]), 0, 15)
        if lsq:
            for _ in range(2):
                n = 32; sq = q.sum(1); sqq = (q * q).sum(1); sx = x.sum(1); sxq = (x * q).sum(1)
                det = n * sqq - sq * sq
                ok = det > 0
                s2 = np.where(ok, (n * sxq - sq * sx) / np.where(ok, det, 1), s)
                c = np.where(ok, (sx - s2 * sq) / n, -m)  # x ~ s2*q + c, c = -m
                s2 = np.maximum(s2, 1e-30); m2 = np.maximum(-c, 0)
                q = np.clip(np.rint((x + m2[:, None]) / s2[:, None]), 0, 15)
                s, m = s2, m2
        e = ((x - (s[:, None] * q - m[:, None])) ** 2).sum(1)
        better = e < best_e
        best_e = np.where(better, e, best_e); best_s = np.where(better, s, best_s); best_m = np.where(better, m, best_m)
    return best_s, best_m
def superblocks(x, s, m):
    S = s.reshape(-1, 8); M = m.reshape(-1, 8)
    d = (S.max(1) / 63).astype(np.float16).astype(np.float64); dm = (M.max(1) / 63).astype(np.float16).astype(np.float64)
    sq = np.clip(np.rint(S / np.where(d > 0, d, 1)[:, None]), 0, 63); mq = np.clip(np.rint(M / np.where(dm > 0, dm, 1)[:, None]), 0, 63)
    s2 = (sq * d[:, None]).reshape(-1); m2 = (mq * dm[:, None]).reshape(-1)
    q = np.clip(np.rint((x + m2[:, None]) / np.where(s2 > 0, s2, 1)[:, None]), 0, 15)
    y = s2[:, None] * q - m2[:, None]
    return 10 * np.log10((x ** 2).sum() / ((x - y) ** 2).sum())
for search in (False, True):
    for lsq in (False, True):
        s, m = fit(x, search, lsq)
        print(f"search={search} lsq={lsq}: SQNR {superblocks(x, s, m):.2f} dB at 4.5 bpw")
