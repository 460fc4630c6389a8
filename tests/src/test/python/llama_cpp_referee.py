"""llama.cpp (through llama-cpp-python) as the referee of Nibble's GGUF files.

usage:
  llama_cpp_referee.py logits MODEL.gguf TEXT_FILE N_TOKENS OUT_PREFIX
      tokenizes the text with the model's tokenizer (BOS first if the vocab adds one), keeps the first
      N_TOKENS ids, runs them in one batch and writes OUT_PREFIX.ids (int32 LE) and OUT_PREFIX.logits
      (float32 LE, N_TOKENS x n_vocab, row-major).
  llama_cpp_referee.py perplexity MODEL.gguf TEXT_FILE CTX CHUNKS OUT.json
      llama-perplexity's protocol: the text tokenized once (BOS first if the vocab adds one), cut into
      chunks of CTX tokens, the first token of each chunk set to BOS if the vocab adds one, only the
      second half of each chunk scored; at most
      CHUNKS chunks. Writes {"ppl", "nll_sum", "count", "chunks", "tokens"}.
  llama_cpp_referee.py quantize IN.gguf OUT.gguf TYPE
      llama.cpp's own quantizer (llama_model_quantize, allow_requantize) to TYPE (Q4_0, Q8_0, Q4_K_M ...).

Every core unless NIBBLE_THREADS says otherwise (benchmarks set 1; results do not depend on it).
"""
import ctypes
import json
import math
import os
import sys

import numpy as np
import llama_cpp

THREADS = int(os.environ.get("NIBBLE_THREADS", str(os.cpu_count())))


def load(model, n_ctx):
    return llama_cpp.Llama(model_path=model, n_ctx=n_ctx, n_batch=n_ctx, n_ubatch=n_ctx, logits_all=True,
                           n_threads=THREADS, n_threads_batch=THREADS, verbose=False)


def tokens_of(llm, text_file):
    with open(text_file, "rb") as f:
        text = f.read()
    return llm.tokenize(text, add_bos=True, special=False)


def logits(model, text_file, n, prefix):
    n = int(n)
    llm = load(model, max(n, 8))
    ids = tokens_of(llm, text_file)[:n]
    llm.reset()
    llm.eval(ids)
    scores = np.asarray(llm.scores[:n], dtype="<f4")
    np.asarray(ids, dtype="<i4").tofile(prefix + ".ids")
    scores.tofile(prefix + ".logits")


def log_softmax(row):
    row = row.astype(np.float64)
    m = row.max()
    return row - m - math.log(np.exp(row - m).sum())


def perplexity(model, text_file, ctx, chunks, out):
    ctx, chunks = int(ctx), int(chunks)
    llm = load(model, ctx)
    ids = tokens_of(llm, text_file)
    n_chunks = min(chunks, len(ids) // ctx)
    bos = llm.token_bos()
    add_bos = llm.tokenize(b"a", add_bos=True)[:1] == [bos]
    first = ctx // 2
    nll, count = 0.0, 0
    for c in range(n_chunks):
        chunk = list(ids[c * ctx:(c + 1) * ctx])
        if add_bos:
            chunk[0] = bos
        llm.reset()
        llm.eval(chunk)
        scores = np.asarray(llm.scores[:ctx])
        for j in range(first, ctx - 1):
            nll -= log_softmax(scores[j])[chunk[j + 1]]
            count += 1
    with open(out, "w") as f:
        json.dump({"ppl": math.exp(nll / count), "nll_sum": nll, "count": count, "chunks": n_chunks,
                   "tokens": len(ids)}, f)


def quantize(src, dst, type_name):
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, "LLAMA_FTYPE_MOSTLY_" + type_name)
    params.allow_requantize = True
    params.nthread = THREADS
    rc = llama_cpp.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(params))
    if rc != 0:
        sys.exit("llama_model_quantize failed: %d" % rc)


if __name__ == "__main__":
    {"logits": logits, "perplexity": perplexity, "quantize": quantize}[sys.argv[1]](*sys.argv[2:])
