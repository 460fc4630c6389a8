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
 * {@code (s0+s1)+(s2+s3)}); that double is rounded to a whole number of steps {@code 2^e} and added
 * to a {@code long} total ({@link Part}). The step is fixed per input before the pass from a bound
 * on every entry, {@code tokens · max|x|²} with {@code max|x|} from the activation statistics of
 * calibration's first pass ({@link #exponent}): totals stay below {@code 2^62} steps, and each entry
 * keeps about 62 bits relative to the largest possible one. Integer addition is associative and
 * commutative, so every split of sequences over tasks and every merge tree gives the same totals,
 * and the mean ({@link Part#mean}) is rounded from them once. Memory: 8 bytes per entry of each
 * input's upper triangle, plus one sequence's input vectors.
 */
public final class HessianAccumulator implements LinearInputs {
    private final int layers;
    private final int[] widths;
    private final Part[] parts;
    private float[][] buffer;
    private final int[] positions;

    /** {@code exponents[i]}: input {@code i}'s fixed-point step ({@link #exponent}). */
    public HessianAccumulator(LlamaConfig c, int[] exponents) {
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
        if (exponents.length != n) {
            throw new IllegalArgumentException(exponents.length + " steps for " + n + " inputs");
        }
        parts = new Part[n];
        buffer = new float[n][];
        positions = new int[n];
        for (int i = 0; i < n; i++) {
            parts[i] = new Part(i, widths[i], exponents[i]);
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
     * The fixed-point step for an input: a power of two {@code 2^e} such that {@code tokens · max|x|²}
     * (a bound on every entry of {@code XᵀX} over all the calibration tokens) is below {@code 2^62}
     * steps, so totals fit a {@code long} with room for the rounding of every sequence.
     */
    public static int exponent(long tokens, float maxAbs) {
        double bound = (double) tokens * maxAbs * maxAbs;
        if (!(bound > 0)) {
            return -62;
        }
        if (Double.isInfinite(bound)) {
            throw new InvalidInputException("activations of " + maxAbs + " are too large for the Hessian");
        }
        return Math.getExponent(bound) + 1 - 62;
    }

    /**
     * One input's exact total: tokens and the upper triangle of {@code Σ xxᵀ} in fixed point, each
     * entry a {@code long} count of steps {@code 2^exponent} ({@link HessianAccumulator#exponent}).
     */
    public static final class Part implements Serializable {
        private static final long serialVersionUID = 1L;
        private final int input;
        private final int n;
        private final int exponent;
        private long tokens;
        private final long[] total;

        Part(int input, int n, int exponent) {
            this.input = input;
            this.n = n;
            this.exponent = exponent;
            total = new long[n * (n + 1) / 2];
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

        /** Adds {@code v}, rounded to the nearest step (half to even), to entry {@code e}. */
        void addExact(int e, double v) {
            double steps = Math.rint(Math.scalb(v, -exponent)); // scalb by a power of two is exact unless the result is subnormal
            if (!(Math.abs(steps) < 0x1p62)) {
                throw new InvalidInputException("an XᵀX entry of " + v + " at input " + input + " exceeds the bound its step was "
                        + "chosen for (activations not finite, or larger than calibration's first pass measured)");
            }
            total[e] = add(total[e], (long) steps);
        }

        private long add(long a, long b) {
            long r = a + b;
            if (((a ^ r) & (b ^ r)) < 0) {
                throw new InvalidInputException("the XᵀX total at input " + input + " overflows");
            }
            return r;
        }

        /** Adds {@code other}'s totals to this one's (exactly) and returns this. */
        public Part merge(Part other) {
            if (other.n != n || other.input != input || other.exponent != exponent) {
                throw new IllegalArgumentException("Hessians of different inputs or steps");
            }
            for (int e = 0; e < total.length; e++) {
                total[e] = add(total[e], other.total[e]);
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
                    double v = Math.scalb((double) total[e], exponent) / tokens;
                    out[i * n + j] = v;
                    out[j * n + i] = v;
                }
            }
            return out;
        }
    }
}
