package nibble.common.stats;

import java.io.Serializable;
import java.util.List;
import nibble.common.InvalidInputException;
import nibble.common.model.LinearInputs;
import nibble.common.model.LlamaConfig;

/**
 * {@code XᵀX} of every linear layer's input over calibration sequences (the Hessian of the layer's
 * squared output error, which {@link nibble.common.quant.Gptq} needs), inputs numbered as in
 * {@link ActivationAccumulator}: {@code 4·layer + site}, then the head's input.
 *
 * <p>Deterministic whatever the partitioning: a sequence's vectors are kept (floats, one sequence
 * at a time) and at its end each entry {@code Σₜ xₜᵢ·xₜⱼ} is summed over positions in a fixed order
 * in double (four interleaved partial sums, positions {@code t ≡ 0..3 mod 4}, added as
 * {@code (s0+s1)+(s2+s3)}); that double is then added exactly to a 128-bit fixed-point total
 * ({@link Part}: two's complement, 64 fraction bits, so any per-sequence value below 2^62 in
 * magnitude is kept to 2^-64). Integer addition is associative and commutative, so every split of
 * sequences over tasks and every merge tree gives the same totals, and the mean
 * ({@link Part#mean}) is rounded from them once. Memory: 16 bytes per entry of each input's upper
 * triangle, plus one sequence's input vectors.
 */
public final class HessianAccumulator implements LinearInputs {
    private final int layers;
    private final int[] widths;
    private final Part[] parts;
    private float[][] buffer;
    private final int[] positions;

    public HessianAccumulator(LlamaConfig c) {
        layers = c.numLayers();
        int n = layers * ActivationAccumulator.SITES + 1;
        widths = new int[n];
        for (int l = 0; l < layers; l++) {
            widths[l * ActivationAccumulator.SITES] = c.hiddenSize();
            widths[l * ActivationAccumulator.SITES + 1] = c.hiddenSize();
            widths[l * ActivationAccumulator.SITES + 2] = c.hiddenSize();
            widths[l * ActivationAccumulator.SITES + 3] = c.intermediateSize();
        }
        widths[n - 1] = c.hiddenSize();
        parts = new Part[n];
        buffer = new float[n][];
        positions = new int[n];
        for (int i = 0; i < n; i++) {
            parts[i] = new Part(i, widths[i]);
            buffer[i] = new float[0];
        }
    }

    /** Inputs: {@code 4·layers + 1}. */
    public int inputs() {
        return widths.length;
    }

    /** Makes room for a sequence of {@code tokens} positions (optional: buffers grow as needed). */
    public void reserve(int tokens) {
        for (int i = 0; i < widths.length; i++) {
            if (buffer[i].length < (long) tokens * widths[i]) {
                buffer[i] = new float[Math.multiplyExact(tokens, widths[i])];
            }
        }
    }

    @Override
    public void observe(int layer, Site site, float[] x, int n) {
        int i = site == Site.HEAD_IN ? layers * ActivationAccumulator.SITES : layer * ActivationAccumulator.SITES + site.ordinal();
        int at = positions[i] * n;
        if (at + n > buffer[i].length) {
            buffer[i] = java.util.Arrays.copyOf(buffer[i], Math.max(at + n, 2 * buffer[i].length));
        }
        System.arraycopy(x, 0, buffer[i], at, n);
        positions[i]++;
    }

    /** Adds the current sequence's {@code XᵀX} to the totals and starts the next sequence; {@code what} names it in errors. */
    public void endSequence(String what) {
        for (int i = 0; i < widths.length; i++) {
            int t = positions[i];
            if (t == 0) {
                continue;
            }
            try {
                parts[i].add(buffer[i], t);
            } catch (InvalidInputException e) {
                throw new InvalidInputException(what + ": " + e.getMessage(), e);
            }
            positions[i] = 0;
        }
    }

    /** Every input's totals, in input order. */
    public List<Part> parts() {
        return List.of(parts);
    }

    /**
     * One input's exact total: tokens and the upper triangle of {@code Σ xxᵀ} as 128-bit fixed point
     * ({@code hi} the signed high words, {@code lo} the unsigned low words, 64 fraction bits).
     */
    public static final class Part implements Serializable {
        private static final long serialVersionUID = 1L;
        private final int input;
        private final int n;
        private long tokens;
        private final long[] hi;
        private final long[] lo;

        Part(int input, int n) {
            this.input = input;
            this.n = n;
            hi = new long[n * (n + 1) / 2];
            lo = new long[hi.length];
        }

        public int input() {
            return input;
        }

        public int channels() {
            return n;
        }

        public long tokens() {
            return tokens;
        }

        /** Adds {@code XᵀX} of {@code t} vectors ({@code x}, position-major) exactly. */
        void add(float[] x, int t) {
            float[] cols = new float[n * t]; // channel-major, so each entry is a dot product of two contiguous runs
            for (int p = 0; p < t; p++) {
                for (int c = 0; c < n; c++) {
                    cols[c * t + p] = x[p * n + c];
                }
            }
            int e = 0;
            for (int i = 0; i < n; i++) {
                int a = i * t;
                for (int j = i; j < n; j++, e++) {
                    int b = j * t;
                    double s0 = 0;
                    double s1 = 0;
                    double s2 = 0;
                    double s3 = 0;
                    int p = 0;
                    for (; p + 3 < t; p += 4) {
                        s0 += (double) cols[a + p] * cols[b + p];
                        s1 += (double) cols[a + p + 1] * cols[b + p + 1];
                        s2 += (double) cols[a + p + 2] * cols[b + p + 2];
                        s3 += (double) cols[a + p + 3] * cols[b + p + 3];
                    }
                    for (; p < t; p++) {
                        s0 += (double) cols[a + p] * cols[b + p];
                    }
                    addExact(e, (s0 + s1) + (s2 + s3));
                }
            }
            tokens += t;
        }

        /** Adds {@code v} to entry {@code e} exactly (to 2^-64). */
        void addExact(int e, double v) {
            if (v == 0) {
                return;
            }
            if (!(Math.abs(v) < 0x1p62)) {
                throw new InvalidInputException("an XᵀX entry of " + v + " at the input of " + input
                        + " (activations too large or not finite for the Hessian)");
            }
            long bits = Double.doubleToRawLongBits(v);
            int exp = (int) ((bits >>> 52) & 0x7ff);
            long m = bits & ((1L << 52) - 1);
            int shift; // v = m · 2^(shift - 64)
            if (exp == 0) {
                shift = -1074 + 64;
            } else {
                m |= 1L << 52;
                shift = exp - 1075 + 64;
            }
            long h;
            long l;
            if (shift >= 64) {
                h = m << (shift - 64);
                l = 0;
            } else if (shift > 0) {
                h = m >>> (64 - shift);
                l = m << shift;
            } else if (shift == 0) {
                h = 0;
                l = m;
            } else if (shift > -54) {
                h = 0;
                l = (m + (1L << (-shift - 1))) >>> -shift; // to nearest, ties up: the same for every split of sequences
            } else {
                return;
            }
            if (v < 0) {
                l = -l;
                h = ~h + (l == 0 ? 1 : 0);
            }
            add128(e, h, l);
        }

        private void add128(int e, long h, long l) {
            long a = hi[e];
            long s = lo[e] + l;
            long carry = Long.compareUnsigned(s, lo[e]) < 0 ? 1 : 0;
            long r = a + h + carry;
            if ((a ^ h) >= 0 && (a ^ r) < 0) {
                throw new InvalidInputException("the XᵀX total at the input of " + input + " overflows 2^63");
            }
            hi[e] = r;
            lo[e] = s;
        }

        /** Adds {@code other}'s totals to this one's (exactly) and returns this. */
        public Part merge(Part other) {
            if (other.n != n || other.input != input) {
                throw new IllegalArgumentException("Hessians of different inputs");
            }
            for (int e = 0; e < hi.length; e++) {
                add128(e, other.hi[e], other.lo[e]);
            }
            tokens += other.tokens;
            return this;
        }

        /** The mean {@code XᵀX / tokens}, full {@code n×n} row-major (symmetric). */
        public double[] mean() {
            double[] out = new double[n * n];
            if (tokens == 0) {
                return out;
            }
            int e = 0;
            for (int i = 0; i < n; i++) {
                for (int j = i; j < n; j++, e++) {
                    double lowPart = (double) (lo[e] >>> 1) * 0x1p-63 + (double) (lo[e] & 1) * 0x1p-64;
                    double v = ((double) hi[e] + lowPart) / tokens;
                    out[i * n + j] = v;
                    out[j * n + i] = v;
                }
            }
            return out;
        }
    }
}
