package nibble.common.tokenizer;

import java.util.Arrays;
import nibble.common.InvalidInputException;

/** A growable int array: the token ids of one encoding. */
final class IntList {
    private int[] a;
    private int n;

    IntList(int capacity) {
        a = new int[Math.max(4, capacity)];
    }

    void add(int v) {
        if (n == a.length) {
            if (a.length > Integer.MAX_VALUE / 2 - 8) {
                throw new InvalidInputException("the text gives more than " + n + " tokens");
            }
            a = Arrays.copyOf(a, a.length * 2);
        }
        a[n++] = v;
    }

    int[] toArray() {
        return Arrays.copyOf(a, n);
    }
}
