package nibble.common.quant;

import java.util.SplittableRandom;

/** Seeded test rows. */
final class Rows {
    private Rows() {
    }

    static float[] gaussian(SplittableRandom r, int n, double sigma) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (gauss(r) * sigma);
        }
        return x;
    }

    /** Student-t with {@code nu} degrees of freedom: a Gaussian over sqrt(chi^2 / nu), heavy-tailed for small nu. */
    static float[] studentT(SplittableRandom r, int n, int nu, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            double chi2 = 0;
            for (int k = 0; k < nu; k++) {
                double g = gauss(r);
                chi2 += g * g;
            }
            x[i] = (float) (gauss(r) / Math.sqrt(chi2 / nu) * scale);
        }
        return x;
    }

    /**
     * Values on a power-of-two grid, {@code k * 2^-e} for integers {@code k} in a random window
     * around 0: ranges and scales come out exact, so codes and zero-points fall on rounding ties.
     */
    static float[] grid(SplittableRandom r, int n) {
        int width = 1 + r.nextInt(60);
        int shift = r.nextInt(width + 1);
        float step = Math.scalb(1f, -r.nextInt(12));
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (r.nextInt(width + 1) - shift) * step;
        }
        return x;
    }

    static double gauss(SplittableRandom r) {
        double u = 1 - r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    static double groupSqError(float[] x, float[] y, int from, int to) {
        double e = 0;
        for (int i = from; i < to; i++) {
            double d = (double) x[i] - y[i];
            e += d * d;
        }
        return e;
    }
}
