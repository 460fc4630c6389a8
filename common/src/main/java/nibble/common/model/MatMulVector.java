package nibble.common.model;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API kernel of {@link MatMul}: 256-bit vectors of 8 floats, a fixed species whatever the
 * machine prefers. Each lane of each accumulator is one (row, token) sum fed one fused multiply-add
 * per column, in column order, exactly as {@link MatMul#panelScalar}; lanes are stored, never added
 * together, so the floats are the scalar kernel's. Loaded only after {@link
 * nibble.common.quant.VectorSupport} has found the module.
 */
final class MatMulVector {
    private MatMulVector() {
    }

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_256;
    private static final int P = MatMul.PANEL;

    static boolean ready() {
        return S.length() * 2 == P;
    }

    /**
     * {@code acc[t·16 + j] = fma(panel[k·16 + j], x[t·xStride + k0 + k], acc[t·16 + j])} for
     * {@code k = 0 .. kb-1} in order, every token {@code t < tokens}: six tokens per step, then one.
     */
    static void panel(float[] panel, int kb, float[] x, int xStride, int k0, int tokens, float[] acc) {
        int t = 0;
        for (; t + 6 <= tokens; t += 6) {
            six(panel, kb, x, t * xStride + k0, xStride, acc, t * P);
        }
        for (; t < tokens; t++) {
            one(panel, kb, x, t * xStride + k0, acc, t * P);
        }
    }

    private static void six(float[] panel, int kb, float[] x, int x0, int xs, float[] acc, int a) {
        FloatVector c00 = FloatVector.fromArray(S, acc, a);
        FloatVector c01 = FloatVector.fromArray(S, acc, a + 8);
        FloatVector c10 = FloatVector.fromArray(S, acc, a + 16);
        FloatVector c11 = FloatVector.fromArray(S, acc, a + 24);
        FloatVector c20 = FloatVector.fromArray(S, acc, a + 32);
        FloatVector c21 = FloatVector.fromArray(S, acc, a + 40);
        FloatVector c30 = FloatVector.fromArray(S, acc, a + 48);
        FloatVector c31 = FloatVector.fromArray(S, acc, a + 56);
        FloatVector c40 = FloatVector.fromArray(S, acc, a + 64);
        FloatVector c41 = FloatVector.fromArray(S, acc, a + 72);
        FloatVector c50 = FloatVector.fromArray(S, acc, a + 80);
        FloatVector c51 = FloatVector.fromArray(S, acc, a + 88);
        int x1 = x0 + xs;
        int x2 = x1 + xs;
        int x3 = x2 + xs;
        int x4 = x3 + xs;
        int x5 = x4 + xs;
        for (int k = 0; k < kb; k++) {
            FloatVector w0 = FloatVector.fromArray(S, panel, k * P);
            FloatVector w1 = FloatVector.fromArray(S, panel, k * P + 8);
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
        c00.intoArray(acc, a);
        c01.intoArray(acc, a + 8);
        c10.intoArray(acc, a + 16);
        c11.intoArray(acc, a + 24);
        c20.intoArray(acc, a + 32);
        c21.intoArray(acc, a + 40);
        c30.intoArray(acc, a + 48);
        c31.intoArray(acc, a + 56);
        c40.intoArray(acc, a + 64);
        c41.intoArray(acc, a + 72);
        c50.intoArray(acc, a + 80);
        c51.intoArray(acc, a + 88);
    }

    private static void one(float[] panel, int kb, float[] x, int x0, float[] acc, int a) {
        FloatVector c0 = FloatVector.fromArray(S, acc, a);
        FloatVector c1 = FloatVector.fromArray(S, acc, a + 8);
        for (int k = 0; k < kb; k++) {
            FloatVector b = FloatVector.broadcast(S, x[x0 + k]);
            c0 = FloatVector.fromArray(S, panel, k * P).fma(b, c0);
            c1 = FloatVector.fromArray(S, panel, k * P + 8).fma(b, c1);
        }
        c0.intoArray(acc, a);
        c1.intoArray(acc, a + 8);
    }
}
