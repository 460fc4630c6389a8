package nibble.common.quant;

import nibble.common.InvalidInputException;

/**
 * AWQ-style activation-aware scaling (Lin et al., "AWQ", 2023): before a linear layer's weights are
 * quantized, each input channel {@code c} is scaled by {@code s[c] = m[c]^alpha}, where {@code m[c]}
 * is the channel's mean |x| on calibration data, so weights that multiply large activations get
 * more of the quantization grid. The layer computes the same thing when its input is divided by
 * {@code s} ({@code (W·diag(s))·(x/s) = W·x}); {@link AwqFolds} folds that division into the layer
 * before (a norm's weight, or a previous matrix's rows), so the stored model is an ordinary one.
 *
 * <p>{@code alpha} is searched on the grid {@code 0, 1/n, ..., (n-1)/n} ({@code n = grid}, as
 * AutoAWQ's 20 points) per scale group (the matrices that read one input and share one {@code s}),
 * minimising the group's output error in the diagonal approximation: {@code Σ_rows Σ_c mean_sq[c] ·
 * (W[r][c] − Ŵ[r][c])²}, {@code Ŵ = dequantize(quantize(W·s)) / s}, which is {@code tr(ΔW H ΔWᵀ)}
 * with {@code H} replaced by its diagonal (the channels' mean x²); the full Hessian is not used. The
 * candidate's weights are quantized round-to-nearest in the recipe's layout during the search (fast;
 * the clip search comes after, weighted by {@code mean_sq[c] / s[c]²}). {@code alpha = 0} gives
 * {@code s = 1}, so the search is never worse than no scaling on this error; the first least error wins.
 *
 * <p>Scales: {@code m[c]} below {@code max(m)·2^-20} is raised to it (dead channels); {@code m^alpha}
 * is normalised by {@code sqrt(max·min)} (AutoAWQ's normalisation, so scales straddle 1), computed in
 * double and rounded once to float. Everything is in a fixed order, so results are deterministic.
 */
public final class Awq {
    private Awq() {
    }

    /** The recipe's {@code "awq"} object: the number of alpha grid points (1 to 100; default 20). */
    public record Options(int grid) implements java.io.Serializable {
        public static final Options DEFAULT = new Options(20);

        public Options {
            if (grid < 1 || grid > 100) {
                throw new InvalidInputException("awq grid must be 1 to 100, got " + grid);
            }
        }
    }

    /** The chosen alpha of a scale group, its scales, its error with them and without scaling (alpha 0). */
    public record Choice(double alpha, float[] scales, double error, double unscaledError) implements java.io.Serializable {
    }

    /** The scales {@code m^alpha}, normalised; all 1 when alpha is 0 or every {@code m} is 0. */
    public static float[] scales(double[] meanAbs, double alpha) {
        double max = 0;
        for (double m : meanAbs) {
            if (!(m >= 0) || Double.isInfinite(m)) {
                throw new InvalidInputException("activation mean |x| " + m + " is not a finite non-negative number");
            }
            max = Math.max(max, m);
        }
        float[] s = new float[meanAbs.length];
        if (alpha == 0 || max == 0) {
            java.util.Arrays.fill(s, 1f);
            return s;
        }
        double floor = max * 0x1p-20;
        double[] p = new double[meanAbs.length];
        double lo = Double.POSITIVE_INFINITY;
        double hi = 0;
        for (int c = 0; c < p.length; c++) {
            p[c] = Math.pow(Math.max(meanAbs[c], floor), alpha);
            lo = Math.min(lo, p[c]);
            hi = Math.max(hi, p[c]);
        }
        double norm = Math.sqrt(hi * lo);
        for (int c = 0; c < p.length; c++) {
            s[c] = (float) (p[c] / norm);
        }
        return s;
    }

    /**
     * The best alpha for a group of matrices ({@code matrices[i]} row-major, {@code cols} columns each)
     * reading one input: {@code meanAbs} and {@code meanSq} per input column; {@code scheme} is the
     * layout the search quantizes in (its range and importance are ignored: round-to-nearest).
     * {@code channelOf} maps a column to its scale (null: column {@code c} has scale {@code c});
     * {@code meanAbs} is then per scale, and several columns share one.
     */
    public static Choice search(float[][] matrices, int cols, double[] meanAbs, double[] meanSq, int[] channelOf, Scheme scheme,
                                Options options) {
        Scheme rtn = searchScheme(scheme);
        Choice best = null;
        double unscaled = Double.NaN;
        for (int k = 0; k < options.grid(); k++) {
            double alpha = (double) k / options.grid();
            float[] s = scales(meanAbs, alpha);
            double e = error(matrices, cols, expand(s, channelOf, cols), meanSq, rtn);
            if (k == 0) {
                unscaled = e;
            }
            if (best == null || e < best.error()) {
                best = new Choice(alpha, s, e, unscaled);
            }
        }
        return new Choice(best.alpha(), best.scales(), best.error(), unscaled);
    }

    /** The round-to-nearest scheme of {@code scheme}'s layout that the search quantizes with. */
    static Scheme searchScheme(Scheme scheme) {
        return new Scheme(scheme.bits(), scheme.symmetric(), scheme.granularity(), scheme.groupSize(), Codebook.UNIFORM,
                RangeMethod.MINMAX, 0, scheme.scaleFormat(), Importance.NONE);
    }

    /** Per-column scales: {@code s[channelOf[c]]}, or {@code s} itself when {@code channelOf} is null. */
    public static float[] expand(float[] s, int[] channelOf, int cols) {
        if (channelOf == null) {
            if (s.length != cols) {
                throw new IllegalArgumentException(s.length + " scales for " + cols + " columns");
            }
            return s;
        }
        float[] out = new float[cols];
        for (int c = 0; c < cols; c++) {
            out[c] = s[channelOf[c]];
        }
        return out;
    }

    /**
     * {@code Σ_matrices Σ_rows Σ_c meanSq[c]·(W[r][c] − dequantize(quantize(W[r]·s))[c] / s[c])²} in
     * double, rows and columns in order: the group's output error in the diagonal approximation.
     */
    public static double error(float[][] matrices, int cols, float[] s, double[] meanSq, Scheme scheme) {
        double total = 0;
        float[] scaled = new float[cols];
        for (float[] w : matrices) {
            int rows = w.length / cols;
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    scaled[c] = w[r * cols + c] * s[c];
                }
                float[] back = Quantizer.dequantize(Quantizer.quantize("awq search", r, scaled, scheme), scheme, cols);
                double row = 0;
                for (int c = 0; c < cols; c++) {
                    double d = (double) w[r * cols + c] - (double) back[c] / s[c];
                    row += meanSq[c] * d * d;
                }
                total += row;
            }
        }
        return total;
    }

    /** The clip search's importance after scaling: {@code meanSq[c] / s[c]²} (the input is {@code x / s}). */
    public static double[] scaledImportance(double[] meanSq, float[] columnScales) {
        double[] out = new double[meanSq.length];
        for (int c = 0; c < out.length; c++) {
            double s = columnScales[c];
            out[c] = meanSq[c] / (s * s);
        }
        return out;
    }
}
