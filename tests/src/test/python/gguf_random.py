"""Writes a GGUF file (with the `gguf` package's own GGUFWriter) holding one tensor of every ggml type
Nibble reads, each of random block bytes with finite random scales, for GgufTypesTest.

usage: gguf_random.py OUT.gguf SEED
"""
import sys

import numpy as np
from gguf import GGUFWriter, GGMLQuantizationType as T
from gguf.constants import GGML_QUANT_SIZES

# (type, byte offsets of the f16 scales inside a block)
TYPES = [
    (T.F32, []), (T.F16, []), (T.BF16, []),
    (T.Q4_0, [0]), (T.Q4_1, [0, 2]), (T.Q5_0, [0]), (T.Q5_1, [0, 2]), (T.Q8_0, [0]),
    (T.Q2_K, [80, 82]), (T.Q3_K, [108]), (T.Q4_K, [0, 2]), (T.Q5_K, [0, 2]), (T.Q6_K, [208]),
]


def main(out, seed):
    rng = np.random.default_rng(seed)
    w = GGUFWriter(out, "random")
    rows = 3
    for qtype, scale_offsets in TYPES:
        block, size = GGML_QUANT_SIZES[qtype]
        cols = 512
        if qtype == T.F32:
            data = rng.standard_normal((rows, cols)).astype(np.float32)
        elif qtype == T.F16:
            data = rng.standard_normal((rows, cols)).astype(np.float16)
        else:
            n_blocks = rows * cols // block
            raw = rng.integers(0, 256, size=(n_blocks, size), dtype=np.uint8)
            if qtype == T.BF16:
                # keep exponents finite: random sign and mantissa, exponent near 1
                v = rng.standard_normal(n_blocks).astype(np.float32).view(np.uint32) >> 16
                raw = v.astype(np.uint16).view(np.uint8).reshape(n_blocks, size)
            for off in scale_offsets:
                scales = (rng.standard_normal(n_blocks) * 0.05).astype(np.float16)
                raw[:, off:off + 2] = scales.view(np.uint8).reshape(n_blocks, 2)
            data = raw.reshape(rows, cols // block * size)
        w.add_tensor("t." + qtype.name, data, raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
