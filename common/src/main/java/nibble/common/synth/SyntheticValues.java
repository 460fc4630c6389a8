package nibble.common.synth;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;
import nibble.common.Halfs;
import nibble.common.TensorInfo;

/**
 * The values of one synthetic tensor, any row computable on its own from (seed, tensor name, row), so
 * rows can be generated in parallel or re-generated to check a written file. Matrices look like LLM
 * weights where it matters to quantization: Student-t tails (5 degrees of freedom; Bailey's polar method,
 * each pair of adjacent values sharing one radius, which keeps each value exactly t-distributed at half
 * the cost), overall standard
 * deviation about 0.02, and about 0.5% of input channels (columns) scaled 10-30x; 1-D tensors are norm
 * weights near 1 (1 ± 0.05).
 */
public final class SyntheticValues {

    /** Degrees of freedom of the Student-t body. */
    public static final double NU = 5;
    /** Target standard deviation of a whole matrix, outlier columns included. */
    public static final double MATRIX_STD = 0.02;
    /** Fraction of a matrix's columns that are outlier input channels (at least one column). */
    public static final double OUTLIER_FRACTION = 0.005;

    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private final TensorInfo tensor;
    private final long tensorSeed;
    private final boolean matrix;
    private final float[] columnScale;
    private final int[] outlierColumns;

    private SyntheticValues(TensorInfo tensor, long seed) {
        this.tensor = tensor;
        this.tensorSeed = mix(seed ^ mix(fnv1a(tensor.name())));
        this.matrix = tensor.shape().length >= 2;
        int cols = (int) tensor.rowLength();
        if (!matrix || cols == 0) {
            columnScale = null;
            outlierColumns = new int[0];
            return;
        }
        SplittableRandom r = new SplittableRandom(mix(tensorSeed ^ 0x6F75746C69657273L));
        int k = Math.max(1, (int) Math.round(cols * OUTLIER_FRACTION));
        double[] scale = new double[cols];
        Arrays.fill(scale, 1.0);
        int[] chosen = new int[k];
        for (int i = 0; i < k; i++) {
            int c;
            do {
                c = r.nextInt(cols);
            } while (scale[c] != 1.0);
            scale[c] = 10 + 20 * r.nextDouble();
            chosen[i] = c;
        }
        Arrays.sort(chosen);
        double meanSquare = 0;
        for (double s : scale) {
            meanSquare += s * s;
        }
        meanSquare /= cols;
        double base = MATRIX_STD / Math.sqrt(NU / (NU - 2) * meanSquare);
        columnScale = new float[cols];
        for (int c = 0; c < cols; c++) {
            columnScale[c] = (float) (base * scale[c]);
        }
        outlierColumns = chosen;
    }

    /** Values of {@code tensor} for the given seed. */
    public static SyntheticValues of(TensorInfo tensor, long seed) {
        return new SyntheticValues(tensor, seed);
    }

    /** Values of {@code tensor} for {@code spec}'s seed. */
    public static SyntheticValues of(SyntheticSpec spec, TensorInfo tensor) {
        return new SyntheticValues(tensor, spec.seed());
    }

    public TensorInfo tensor() {
        return tensor;
    }

    /** The outlier columns of a matrix, ascending (empty for 1-D tensors). */
    public int[] outlierColumns() {
        return outlierColumns.clone();
    }

    /** Fills {@code out[0 .. rowLength)} with row {@code row}'s float values (before dtype rounding). */
    public void fillRow(long row, float[] out) {
        int n = (int) tensor.rowLength();
        SplittableRandom r = new SplittableRandom(mix(tensorSeed + (row + 1) * GOLDEN));
        if (!matrix) {
            for (int i = 0; i < n; i++) {
                out[i] = (float) (1 + 0.05 * (2 * r.nextDouble() - 1));
            }
            return;
        }
        int i = 0;
        while (i < n) {
            double u;
            double v;
            double w;
            do {
                long bits = r.nextLong();
                u = (bits >> 32) * 0x1p-31;
                v = (int) bits * 0x1p-31;
                w = u * u + v * v;
            } while (w >= 1 || w == 0);
            double s = Math.sqrt(NU * (Math.pow(w, -2 / NU) - 1) / w);
            out[i] = (float) (u * s) * columnScale[i];
            i++;
            if (i < n) {
                out[i] = (float) (v * s) * columnScale[i];
                i++;
            }
        }
    }

    /** Row {@code row}'s float values, in a new array. */
    public float[] row(long row) {
        float[] out = new float[(int) tensor.rowLength()];
        fillRow(row, out);
        return out;
    }

    /** Puts row {@code row} into {@code dst} in the tensor's dtype, in {@code dst}'s byte order. */
    public void writeRow(long row, float[] scratch, ByteBuffer dst) {
        int n = (int) tensor.rowLength();
        fillRow(row, scratch);
        switch (tensor.dtype()) {
            case F32 -> {
                for (int i = 0; i < n; i++) {
                    dst.putFloat(scratch[i]);
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    dst.putShort(Halfs.floatToF16(scratch[i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    dst.putShort(Halfs.floatToBf16(scratch[i]));
                }
            }
            default -> throw new IllegalStateException(tensor.dtype().toString());
        }
    }

    private static long fnv1a(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    /** The SplitMix64 finalizer: spreads nearby inputs (consecutive rows, similar names) apart. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
