"""Reference for TokenizerReferenceTest: llama.cpp itself (llama-cpp-python), on a
GGUF model and a UTF-8 text.

usage:
  llamacpp_text_reference.py tokenize MODEL.gguf TEXT CASES.json PRE OUT.json
      ids of the whole TEXT and of each string in CASES.json (a JSON array), as llama.cpp's tokenizer
      gives them (llama_tokenize: add_special=False, parse_special=False), and the time it took; the
      whole TEXT's ids with add_special=True too (BOS when the vocabulary adds it); the text of each id
      list as llama.cpp's llama_detokenize gives it (remove_special=False, unparse_special=False); PRE
      "-" uses the model's pre-tokenizer, another value a vocabulary-only copy of the model's metadata
      (no tensors) with tokenizer.ggml.pre = PRE, written next to OUT.json. MODEL may be a
      vocabulary-only file (llama.cpp's models/ggml-vocab-*.gguf).
(perplexity by llama-perplexity's protocol: bin/llama-cpp-referee perplexity)
"""
import ctypes
import json
import sys
import time

import llama_cpp
from gguf import GGUFReader, GGUFValueType, GGUFWriter


def load(model, ctx=512, vocab_only=False):
    return llama_cpp.Llama(model_path=model, n_ctx=ctx, n_batch=ctx, n_ubatch=ctx, n_threads=1, n_threads_batch=1,
                           logits_all=not vocab_only, vocab_only=vocab_only, verbose=False)


def with_pre(model, pre, path):
    """A copy of MODEL's metadata, without tensors, whose tokenizer.ggml.pre is PRE."""
    r = GGUFReader(model)
    w = GGUFWriter(path, arch=r.fields["general.architecture"].contents())
    for key, field in r.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture":
            continue
        value = pre if key == "tokenizer.ggml.pre" else field.contents()
        if field.types[0] == GGUFValueType.ARRAY:
            w.add_key_value(key, value, field.types[0], sub_type=field.types[-1])
        else:
            w.add_key_value(key, value, field.types[0])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def detokenize(llm, ids):
    """llama.cpp's own llama_detokenize (llama-cpp-python's Llama.detokenize pieces tokens together itself)."""
    tokens = (llama_cpp.llama_token * len(ids))(*ids)
    size = 8 * len(ids) + 64
    buf = ctypes.create_string_buffer(size)
    n = llama_cpp.llama_detokenize(llm._model.vocab, tokens, len(ids), buf, size, False, False)
    if n < 0 or n > size:
        raise SystemExit(f"llama_detokenize returned {n} for a buffer of {size}")
    return buf.raw[:n].decode("utf-8", errors="replace")


def tokenize(model, text_path, cases_path, pre, out):
    if pre != "-":
        model = with_pre(model, pre, out + "." + pre + ".gguf")
    llm = load(model, vocab_only=True)
    text = open(text_path, "rb").read()
    cases = json.load(open(cases_path, encoding="utf-8"))
    started = time.perf_counter()
    ids = llm.tokenize(text, add_bos=False, special=False)
    seconds = time.perf_counter() - started
    with_bos = llm.tokenize(text, add_bos=True, special=False)
    case_ids = [llm.tokenize(c.encode("utf-8"), add_bos=False, special=False) for c in cases]
    result = {
        "version": llama_cpp.__version__,
        "text": ids,
        "seconds": seconds,
        "text_bos": with_bos,
        "decoded": detokenize(llm, ids),
        "decoded_bos": detokenize(llm, with_bos),
        "cases": case_ids,
        "cases_decoded": [detokenize(llm, c) for c in case_ids],
    }
    json.dump(result, open(out, "w"))


if __name__ == "__main__":
    if sys.argv[1] == "tokenize":
        tokenize(*sys.argv[2:7])
    else:
        raise SystemExit(__doc__)
