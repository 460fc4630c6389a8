package nibble.common.quant;

import java.util.Arrays;

/**
 * One quantized row: the exact bytes of the Parquet columns {@code codes} (packed, see
 * {@link RowLayout}), {@code scales} (one little-endian F16 or F32 per group) and {@code zeros} (one
 * unsigned zero-point byte per group; null for symmetric schemes).
 */
public record QuantizedRow(byte[] codes, byte[] scales, byte[] zeros) {

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantizedRow q && Arrays.equals(codes, q.codes) && Arrays.equals(scales, q.scales)
                && Arrays.equals(zeros, q.zeros);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(codes) + Arrays.hashCode(scales)) + Arrays.hashCode(zeros);
    }

    @Override
    public String toString() {
        return "QuantizedRow[codes=" + codes.length + "B, scales=" + scales.length + "B, zeros="
                + (zeros == null ? "null" : zeros.length + "B") + "]";
    }
}
