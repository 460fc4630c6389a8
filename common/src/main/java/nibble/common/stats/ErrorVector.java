package nibble.common.stats;

import java.util.Arrays;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link ErrorStats#add}'s fast path with the Vector API: the reference's four interleaved partial
 * sums are the four lanes of a 256-bit double vector. Element {@code i} of the whole fours goes into
 * lane {@code i mod 4}, as it goes into partial sum {@code i mod 4} in {@link ErrorStats#addReference},
 * each lane is widened from float and multiplied and added in the same order with no fused
 * multiply-add, and the lanes are summed as the reference sums its partials, so the doubles are
 * bit for bit the reference's. The maximum is order-free. Loaded only when
 * {@link nibble.common.quant.VectorSupport} has found the module and 256-bit vectors.
 */
final class ErrorVector {
    private ErrorVector() {
    }

    // 256-bit floats like every other kernel: a JVM that runs the Vector API on two shapes of one
    // element type can lose the intrinsics at random (DESIGN-NOTES, "One vector shape per JVM")
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_256;
    private static final VectorSpecies<Double> DS = DoubleVector.SPECIES_256;

    /** Adds the row's sums into {@code stats}; the arrays have the same length. */
    static void add(ErrorStats stats, float[] original, float[] reconstructed) {
        DoubleVector e = DoubleVector.zero(DS);
        DoubleVector s = DoubleVector.zero(DS);
        DoubleVector r = DoubleVector.zero(DS);
        DoubleVector d = DoubleVector.zero(DS);
        DoubleVector max = DoubleVector.zero(DS);
        int whole = original.length & ~3;
        // eight floats per load; part 0 (elements i..i+3) goes in before part 1 (i+4..i+7), so each
        // lane takes its elements in the reference's order
        for (int i = 0; i < whole; i += 8) {
            float[] xs = original;
            float[] ys = reconstructed;
            int at = i;
            int parts = 2;
            if (i + 8 > whole) { // a last four: copied (padded with zeros), and only part 0 added
                xs = Arrays.copyOfRange(original, i, i + 8);
                ys = Arrays.copyOfRange(reconstructed, i, i + 8);
                at = 0;
                parts = 1;
            }
            FloatVector xf = FloatVector.fromArray(FS, xs, at);
            FloatVector yf = FloatVector.fromArray(FS, ys, at);
            for (int part = 0; part < parts; part++) {
                DoubleVector x = (DoubleVector) xf.convertShape(VectorOperators.F2D, DS, part);
                DoubleVector y = (DoubleVector) yf.convertShape(VectorOperators.F2D, DS, part);
                DoubleVector f = x.sub(y);
                e = e.add(f.mul(f));
                s = s.add(x.mul(x));
                r = r.add(y.mul(y));
                d = d.add(x.mul(y));
                max = max.max(f.abs());
            }
        }
        stats.addRow(original, reconstructed, whole, sum(e), sum(s), sum(r), sum(d), max.reduceLanes(VectorOperators.MAX));
    }

    private static double sum(DoubleVector v) {
        return (v.lane(0) + v.lane(1)) + (v.lane(2) + v.lane(3));
    }
}
