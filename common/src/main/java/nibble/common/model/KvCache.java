package nibble.common.model;

/**
 * One sequence's decoding state: the keys and values of every layer at the positions seen so far, and
 * the scratch vectors a forward pass works in. Keeping the scratch here leaves {@link LlamaModel}
 * immutable, so threads can share a model, each with its own cache.
 */
public final class KvCache {
    final int maxSeq;
    /** [layer][position * kvDim + i]. */
    final float[][] keys;
    final float[][] values;
    /** Positions filled: the next forward pass may use any position up to this. */
    int length;

    final float[] x;
    final float[] xb;
    final float[] xb2;
    final float[] q;
    final float[] k;
    final float[] v;
    final float[] att;
    final float[] hb;
    final float[] hb2;
    final float[] quantized;
    final float[] cos;
    final float[] sin;

    KvCache(LlamaConfig c, int maxSeq) {
        if (maxSeq <= 0) {
            throw new IllegalArgumentException("cache length " + maxSeq + " must be positive");
        }
        this.maxSeq = maxSeq;
        int kvDim = c.kvDim();
        keys = new float[c.numLayers()][Math.multiplyExact(maxSeq, kvDim)];
        values = new float[c.numLayers()][maxSeq * kvDim];
        int dim = c.hiddenSize();
        x = new float[dim];
        xb = new float[dim];
        xb2 = new float[dim];
        q = new float[dim];
        k = new float[kvDim];
        v = new float[kvDim];
        att = new float[maxSeq];
        hb = new float[c.intermediateSize()];
        hb2 = new float[c.intermediateSize()];
        quantized = new float[Math.max(dim, c.intermediateSize())];
        cos = new float[c.headDim() / 2];
        sin = new float[c.headDim() / 2];
    }

    /** Most positions this cache holds. */
    public int maxSeq() {
        return maxSeq;
    }

    /** Positions filled so far. */
    public int length() {
        return length;
    }
}
