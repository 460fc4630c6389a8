package nibble.common;

import java.io.Serializable;
import java.util.Arrays;

/**
 * A tensor's name, element type and shape, and how the tensor table lays it out: a tensor of shape
 * {@code [d0, d1, ..., dk]} is {@code d0} rows of {@code d1*...*dk} values; a scalar or 1-D tensor is
 * one row.
 */
public record TensorInfo(String name, DType dtype, long[] shape) implements Serializable {

    /** Largest row the table accepts: a row is one Parquet value and one Java array. */
    public static final long MAX_ROW_BYTES = 1L << 30;

    public TensorInfo {
        shape = shape.clone();
        for (long d : shape) {
            if (d < 0) {
                throw new InvalidInputException("tensor '" + name + "': negative dimension in shape " + Arrays.toString(shape));
            }
        }
        elementCount(name, shape);
    }

    /** Number of table rows: the first dimension, or 1 for scalars and 1-D tensors. */
    public long rows() {
        return shape.length <= 1 ? 1 : shape[0];
    }

    /** Values per row. */
    public long rowLength() {
        if (shape.length == 0) {
            return 1;
        }
        if (shape.length == 1) {
            return shape[0];
        }
        long n = 1;
        for (int i = 1; i < shape.length; i++) {
            n *= shape[i];
        }
        return n;
    }

    /** Bytes per row. */
    public long rowBytes() {
        return rowLength() * dtype.bytes();
    }

    /** Values in the whole tensor. */
    public long elementCount() {
        return elementCount(name, shape);
    }

    /** Bytes of the whole tensor. */
    public long byteLength() {
        return Math.multiplyExact(elementCount(), (long) dtype.bytes());
    }

    private static long elementCount(String name, long[] shape) {
        long n = 1;
        try {
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            Math.multiplyExact(n, 4L);
        } catch (ArithmeticException e) {
            throw new InvalidInputException("tensor '" + name + "': shape " + Arrays.toString(shape) + " overflows");
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * name.hashCode() + dtype.hashCode()) + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }
}
