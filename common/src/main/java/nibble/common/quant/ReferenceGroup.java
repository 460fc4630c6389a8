package nibble.common.quant;

/**
 * What the codecs' reference functions share, and only they: a group's range as the plain
 * definition computes it, and the inverse scale. The fast paths compute both their own way (int-key
 * min/max scan), so the reference-vs-fast tests compare two independent derivations.
 *
 * @param lo the range's low end, at most 0
 * @param hi the range's high end, at least 0
 * @param constant the group is one nonzero value that the range reaches (asymmetric schemes store it exactly)
 */
record ReferenceGroup(float lo, float hi, boolean constant) {

    /**
     * The range of {@code x[from, to)} widened to 0: the clip itself for per-tensor schemes, else
     * the group's min/max capped by the clip when one is given.
     */
    static ReferenceGroup range(float[] x, int from, int to, Scheme s, Clip clip) {
        if (s.granularity() == Granularity.TENSOR) {
            return new ReferenceGroup(clip.min(), clip.max(), false);
        }
        float gmin = 0f;
        float gmax = 0f;
        if (from < to) {
            gmin = Float.POSITIVE_INFINITY;
            gmax = Float.NEGATIVE_INFINITY;
            for (int i = from; i < to; i++) {
                gmin = Math.min(gmin, x[i]);
                gmax = Math.max(gmax, x[i]);
            }
        }
        float lo = Math.min(gmin, 0f);
        float hi = Math.max(gmax, 0f);
        if (clip != null) {
            lo = Math.max(lo, clip.min());
            hi = Math.min(hi, clip.max());
        }
        return new ReferenceGroup(lo, hi, gmin == gmax && gmin != 0f && (hi == gmax || lo == gmin));
    }

    /** {@code 1/scale}, or 0 when that is infinite (a zero or subnormal scale). */
    static float inverse(float scale) {
        float inv = 1f / scale;
        return Float.isInfinite(inv) ? 0f : inv;
    }
}
