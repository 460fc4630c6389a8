package nibble.common.quant;

/**
 * Code packing, the byte layout of the {@code codes} column. 4-bit: two codes per byte, element
 * {@code 2i} in the low nibble of byte {@code i} and {@code 2i+1} in the high nibble; an odd count
 * leaves the last high nibble 0. Symmetric uniform codes -8..7 are stored as {@code code + 8}
 * (0..15, as llama.cpp's Q4_0); asymmetric and table codes 0..15 as they are. 8-bit: one byte per
 * code, symmetric as two's-complement int8, asymmetric as unsigned 0..255.
 */
public final class Nibbles {
    private Nibbles() {
    }

    /** Packs 4-bit codes, adding {@code offset} (8 for symmetric uniform, else 0) to each. */
    public static byte[] pack4(int[] codes, int offset) {
        byte[] out = new byte[(codes.length + 1) / 2];
        for (int i = 0; i < codes.length; i++) {
            int u = codes[i] + offset;
            if (u < 0 || u > 15) {
                throw new IllegalArgumentException("code " + codes[i] + " at " + i + " does not fit a nibble with offset " + offset);
            }
            out[i >> 1] |= (byte) ((i & 1) == 0 ? u : u << 4);
        }
        return out;
    }

    /** Unpacks {@code count} 4-bit codes, subtracting {@code offset}. */
    public static int[] unpack4(byte[] packed, int count, int offset) {
        int[] codes = new int[count];
        for (int i = 0; i < count; i++) {
            int b = packed[i >> 1];
            codes[i] = ((i & 1) == 0 ? b & 0xf : (b >> 4) & 0xf) - offset;
        }
        return codes;
    }

    /** Packs 8-bit codes: symmetric -128..127, asymmetric 0..255. */
    public static byte[] pack8(int[] codes, boolean symmetric) {
        byte[] out = new byte[codes.length];
        int lo = symmetric ? -128 : 0;
        for (int i = 0; i < codes.length; i++) {
            if (codes[i] < lo || codes[i] > lo + 255) {
                throw new IllegalArgumentException("code " + codes[i] + " at " + i + " does not fit a byte");
            }
            out[i] = (byte) codes[i];
        }
        return out;
    }

    public static int[] unpack8(byte[] packed, int count, boolean symmetric) {
        int[] codes = new int[count];
        for (int i = 0; i < count; i++) {
            codes[i] = symmetric ? packed[i] : packed[i] & 0xff;
        }
        return codes;
    }

    /** Packs nibble values already offset into 0..15, one per byte of {@code u}: the fast path's layout. */
    static byte[] pack4Stored(byte[] u, int count) {
        byte[] out = new byte[(count + 1) / 2];
        int pairs = count >> 1;
        for (int i = 0; i < pairs; i++) {
            out[i] = (byte) (u[2 * i] | u[2 * i + 1] << 4);
        }
        if ((count & 1) != 0) {
            out[pairs] = u[count - 1];
        }
        return out;
    }
}
