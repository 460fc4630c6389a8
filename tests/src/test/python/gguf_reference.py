"""Reference for GgufShardTest: dequantizes every tensor of a GGUF file with the `gguf` package
(llama.cpp's own Python reader, gguf.quants.dequantize) and writes, per tensor, its type, its numpy
shape and the CRC-32 (zlib) of its float32 little-endian bytes in row-major order, plus the metadata
scalars, as JSON; with the type of every metadata key (`UINT32`, `ARRAY[STRING]`) and, for arrays,
their length and the CRC-32 of their contents as JSON text.

usage: gguf_reference.py MODEL.gguf OUT.json
"""
import json
import sys
import zlib

import numpy as np
from gguf import GGUFReader, GGUFValueType
from gguf.quants import dequantize


def main(path, out):
    reader = GGUFReader(path)
    tensors = []
    for t in reader.tensors:
        values = np.ascontiguousarray(dequantize(t.data, t.tensor_type), dtype="<f4")
        tensors.append({
            "name": t.name,
            "type": t.tensor_type.name,
            "ne": [int(x) for x in t.shape],
            "shape": [int(x) for x in values.shape],
            "crc32": zlib.crc32(values.tobytes()) & 0xFFFFFFFF,
        })
    metadata = {}
    types = {}
    arrays = {}
    for key, field in reader.fields.items():
        if key.startswith("GGUF."):
            continue
        t = field.types
        types[key] = "ARRAY[%s]" % t[1].name if t[0] == GGUFValueType.ARRAY else t[0].name
        if t[0] == GGUFValueType.ARRAY:
            contents = field.contents()
            arrays[key] = {"count": len(contents),
                           "crc32": zlib.crc32(json.dumps(contents).encode("utf-8")) & 0xFFFFFFFF}
            continue
        value = field.contents()
        metadata[key] = value if not isinstance(value, float) else float(np.float32(value))
    with open(out, "w") as f:
        json.dump({"tensors": tensors, "metadata": metadata, "types": types, "arrays": arrays,
                   "token_count": len(reader.fields["tokenizer.ggml.tokens"].data)
                   if "tokenizer.ggml.tokens" in reader.fields else None}, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
