package nibble.common.model;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API kernel of {@link MatMul}: panels of two vectors' worth of rows, six tokens at a
 * time (12 accumulators; twelve tokens in 24 of AVX-512's 32 registers measured slower). Each lane
 * of each accumulator is one (row, token) sum fed one fused multiply-add per column, in column order, exactly as {@link MatMul#panelScalar}; lanes are stored, never added
 * together, so the floats are the scalar kernel's. Loaded only after {@link
 * nibble.common.quant.VectorSupport} has found the module.
 */
final class MatMulVector {
    private MatMulVector() {
    }

    /**
     * 256-bit vectors, the shape of every other kernel, also where 512-bit ones are preferred: in a
     * JVM that has run the Vector API on another float shape, this kernel lost its intrinsics and ran
     * 20-30 times slower (DESIGN-NOTES, "One vector shape per JVM"). {@code -Dnibble.matmul.bits=512}
     * chooses 512-bit vectors. The width changes which lanes share an instruction, never a sum's
     * operands or order, so both give the same floats (tested).
     */
    private static final VectorSpecies<Float> S = species();
    private static final int L = S.length();
    private static final int P = 2 * L;

    private static VectorSpecies<Float> species() {
        return System.getProperty("nibble.matmul.bits", "").equals("512") ? FloatVector.SPECIES_512 : FloatVector.SPECIES_256;
    }

    /** Rows per packed panel: two vectors. */
    static int panelRows() {
        return P;
    }

    /** For logs: the vector shape. */
    static String shape() {
        return S.vectorBitSize() + "-bit x " + L + " floats, panels of " + P + " rows";
    }

    /**
     * {@link MatMul#panelScalar}'s sums, six tokens per step, then one: lane j of the accumulators of
     * token t is the sum at {@code acc[off + t·stride + j]}.
     */
    static void panel(float[] panel, int kb, float[] x, int xStride, int k0, int tokens, float[] acc, int off, int stride) {
        boolean first = k0 == 0;
        int t = 0;
        for (; t + 6 <= tokens; t += 6) {
            six(panel, kb, x, t * xStride + k0, xStride, acc, off + t * stride, stride, first);
        }
        for (; t < tokens; t++) {
            one(panel, kb, x, t * xStride + k0, acc, off + t * stride, first);
        }
    }

    /*
     * No method of ours creates or takes a vector here: C2 does not inline a method it has already
     * compiled into more than InlineSmallCode bytes, and a vector from a call it did not inline has no
     * exact type, so every fma after it runs the Vector API's fallback, 19 times slower with the
     * `start(acc, i, first)` helper this code had (bin/bench-lib/MatMulInlining.java with
     * -XX:CompileCommand=dontinline). The Vector API's own methods are always inlined.
     */
    private static void six(float[] panel, int kb, float[] x, int x0, int xs, float[] acc, int a0, int as, boolean first) {
        int a1 = a0 + as;
        int a2 = a1 + as;
        int a3 = a2 + as;
        int a4 = a3 + as;
        int a5 = a4 + as;
        FloatVector c00 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, a0);
        FloatVector c01 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, a0 + L);
        FloatVector c10 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, a1);
        FloatVector c11 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, a1 + L);
        FloatVector c20 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, a2);
        FloatVector c21 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, a2 + L);
        FloatVector c30 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, a3);
        FloatVector c31 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, a3 + L);
        FloatVector c40 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, a4);
        FloatVector c41 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, a4 + L);
        FloatVector c50 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, a5);
        FloatVector c51 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, a5 + L);
        int x1 = x0 + xs;
        int x2 = x1 + xs;
        int x3 = x2 + xs;
        int x4 = x3 + xs;
        int x5 = x4 + xs;
        for (int k = 0; k < kb; k++) {
            FloatVector w0 = FloatVector.fromArray(S, panel, k * P);
            FloatVector w1 = FloatVector.fromArray(S, panel, k * P + L);
            FloatVector b = FloatVector.broadcast(S, x[x0 + k]);
            c00 = w0.fma(b, c00);
            c01 = w1.fma(b, c01);
            b = FloatVector.broadcast(S, x[x1 + k]);
            c10 = w0.fma(b, c10);
            c11 = w1.fma(b, c11);
            b = FloatVector.broadcast(S, x[x2 + k]);
            c20 = w0.fma(b, c20);
            c21 = w1.fma(b, c21);
            b = FloatVector.broadcast(S, x[x3 + k]);
            c30 = w0.fma(b, c30);
            c31 = w1.fma(b, c31);
            b = FloatVector.broadcast(S, x[x4 + k]);
            c40 = w0.fma(b, c40);
            c41 = w1.fma(b, c41);
            b = FloatVector.broadcast(S, x[x5 + k]);
            c50 = w0.fma(b, c50);
            c51 = w1.fma(b, c51);
        }
        c00.intoArray(acc, a0);
        c01.intoArray(acc, a0 + L);
        c10.intoArray(acc, a1);
        c11.intoArray(acc, a1 + L);
        c20.intoArray(acc, a2);
        c21.intoArray(acc, a2 + L);
        c30.intoArray(acc, a3);
        c31.intoArray(acc, a3 + L);
        c40.intoArray(acc, a4);
        c41.intoArray(acc, a4 + L);
        c50.intoArray(acc, a5);
        c51.intoArray(acc, a5 + L);
    }

    private static void one(float[] panel, int kb, float[] x, int x0, float[] acc, int a, boolean first) {
        FloatVector c0 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, a);
        FloatVector c1 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, a + L);
        for (int k = 0; k < kb; k++) {
            FloatVector b = FloatVector.broadcast(S, x[x0 + k]);
            c0 = FloatVector.fromArray(S, panel, k * P).fma(b, c0);
            c1 = FloatVector.fromArray(S, panel, k * P + L).fma(b, c1);
        }
        c0.intoArray(acc, a);
        c1.intoArray(acc, a + L);
    }
}
