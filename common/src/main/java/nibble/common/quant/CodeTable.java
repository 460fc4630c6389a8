package nibble.common.quant;

import java.util.Arrays;

/**
 * A 16-entry codebook in [-1, 1], indexed by code. Encoding picks the entry nearest to the value
 * (after clamping it to [-1, 1]); on equal distance the lower code wins. {@link #nearestReference}
 * is the linear scan that defines this; {@link #nearest} finds the same code by counting the
 * entries, sorted by value, that lie at or below the value.
 */
final class CodeTable {
    private final float[] values;
    private final float[] sorted;
    private final int[] sortedCode;

    CodeTable(float[] values) {
        if (values.length != 16) {
            throw new IllegalArgumentException("a 4-bit table has 16 entries");
        }
        this.values = values.clone();
        Integer[] order = new Integer[16];
        for (int i = 0; i < 16; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> values[a] == values[b] ? Integer.compare(a, b) : Float.compare(values[a], values[b]));
        float[] s = new float[16];
        int[] c = new int[16];
        int n = 0;
        for (int i : order) {
            if (n > 0 && s[n - 1] == values[i]) {
                continue; // a duplicate value (log2's -0): the lower code, sorted first, stays
            }
            s[n] = values[i];
            c[n++] = i;
        }
        sorted = Arrays.copyOf(s, n);
        sortedCode = Arrays.copyOf(c, n);
    }

    float value(int code) {
        return values[code];
    }

    float[] values() {
        return values.clone();
    }

    int nearestReference(float v) {
        v = clamp(v);
        int best = 0;
        float bestDist = Math.abs(v - values[0]);
        for (int c = 1; c < 16; c++) {
            float d = Math.abs(v - values[c]);
            if (d < bestDist) {
                bestDist = d;
                best = c;
            }
        }
        return best;
    }

    int nearest(float v) {
        v = clamp(v);
        float[] s = sorted;
        int n = s.length;
        int count = 0; // entries <= v: a branch-free count, where a binary search mispredicts on every step
        for (int k = 0; k < n; k++) {
            count += s[k] <= v ? 1 : 0;
        }
        int lo = count == 0 ? 0 : count - 1; // the largest i with s[i] <= v
        if (lo == n - 1) {
            return sortedCode[lo];
        }
        float d0 = Math.abs(v - s[lo]);
        float d1 = Math.abs(v - s[lo + 1]);
        int a = sortedCode[lo];
        int b = sortedCode[lo + 1];
        return d0 < d1 ? a : (d1 < d0 ? b : Math.min(a, b));
    }

    private static float clamp(float v) {
        return v < -1f ? -1f : (v > 1f ? 1f : v);
    }
}
