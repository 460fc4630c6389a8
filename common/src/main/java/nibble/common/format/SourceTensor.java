package nibble.common.format;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import nibble.common.DType;
import nibble.common.TensorInfo;

/**
 * Where one tensor's bytes sit in a source checkpoint: a contiguous, little-endian, row-major byte
 * range at {@code offset} in {@code file}. Without a {@code sourceType} the bytes are the table's rows
 * as they are ({@code info.byteLength()} bytes); with one (GGUF) each table row of
 * {@code info.rowLength()} F32 values is {@link #sourceRowBytes()} bytes of blocks in the source,
 * which {@link #decodeRow} dequantizes.
 *
 * @param sourceName the tensor's name in the source format when it differs from {@code info.name()}
 *     (llama2.c and GGUF tensors are renamed to Hugging Face Llama names), else the same name
 * @param sourceType the ggml type of a GGUF tensor (then {@code info.dtype()} is F32), or null
 */
public record SourceTensor(TensorInfo info, String file, long offset, String sourceName, GgmlType sourceType)
        implements Serializable {

    public SourceTensor {
        if (sourceType != null && info.dtype() != DType.F32) {
            throw new IllegalArgumentException("a GGUF tensor is decoded to F32, not " + info.dtype());
        }
    }

    /** A tensor stored as the table stores it. */
    public SourceTensor(TensorInfo info, String file, long offset, String sourceName) {
        this(info, file, offset, sourceName, null);
    }

    /** Bytes of one row in the source file. */
    public long sourceRowBytes() {
        return sourceType == null ? info.rowBytes() : sourceType.bytesOf(info.rowLength());
    }

    /** Bytes of the whole tensor in the source file. */
    public long sourceByteLength() {
        return Math.multiplyExact(sourceRowBytes(), info.rows());
    }

    /** One row's source bytes as the table row (little-endian {@code info.dtype()} values). */
    public byte[] decodeRow(byte[] raw) {
        if (sourceType == null) {
            return raw;
        }
        int n = (int) info.rowLength();
        float[] values = new float[n];
        sourceType.dequantize(raw, 0, n, values, 0);
        ByteBuffer b = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return b.array();
    }

    /** Decodes {@code rows} whole rows of source bytes into {@code out} from {@code outOff}. */
    public void decodeRows(byte[] raw, int rows, float[] out, int outOff) {
        int n = Math.multiplyExact(rows, (int) info.rowLength());
        if (sourceType == null) {
            nibble.common.Floats.decode(raw, n, info.dtype(), out, outOff);
        } else {
            sourceType.dequantize(raw, 0, n, out, outOff);
        }
    }
}
