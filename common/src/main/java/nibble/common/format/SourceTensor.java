package nibble.common.format;

import java.io.Serializable;
import nibble.common.TensorInfo;

/**
 * Where one tensor's bytes sit in a source checkpoint: a contiguous, little-endian, row-major byte
 * range of {@code info.byteLength()} bytes at {@code offset} in {@code file}.
 *
 * @param sourceName the tensor's name in the source format when it differs from {@code info.name()}
 *     (llama2.c tensors are renamed to Hugging Face Llama names), else the same name
 */
public record SourceTensor(TensorInfo info, String file, long offset, String sourceName) implements Serializable {
}
