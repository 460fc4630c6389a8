package nibble.common;

import java.util.zip.CRC32C;

/**
 * CRC-32C (Castagnoli) over byte ranges, and the combination of two CRCs into the CRC of the
 * concatenated data. A tensor's checksum is the CRC-32C of its rows' bytes in row order, which equals
 * the CRC-32C of the tensor's bytes in the source file; combining lets tasks checksum rows
 * independently and the result still be that one number.
 *
 * <p>The combination follows zlib's {@code crc32_combine_gen}/{@code crc32_combine_op}: multiplying by
 * {@code x^(8*len2)} modulo the polynomial, in the reflected bit order.
 */
public final class Crc32c {
    private static final int POLY = 0x82F63B78;
    /** X2N[k] = x^(2^k) mod p. */
    private static final int[] X2N = new int[32];

    static {
        int p = 1 << 30;
        X2N[0] = p;
        for (int n = 1; n < 32; n++) {
            p = multModP(p, p);
            X2N[n] = p;
        }
    }

    private Crc32c() {
    }

    /** CRC-32C of {@code b[off, off+len)}. */
    public static int of(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return (int) c.getValue();
    }

    /** CRC-32C of the whole array. */
    public static int of(byte[] b) {
        return of(b, 0, b.length);
    }

    /** The operator that appends {@code len2} bytes; reuse it for many rows of the same length. */
    public static int combineOperator(long len2) {
        return x2nModP(len2, 3);
    }

    /** CRC of A||B from crc(A), crc(B) and the operator for B's length. */
    public static int combine(int crc1, int crc2, int operator) {
        return multModP(operator, crc1) ^ crc2;
    }

    /** CRC of A||B from crc(A), crc(B) and B's length in bytes. */
    public static int combine(int crc1, int crc2, long len2) {
        return combine(crc1, crc2, combineOperator(len2));
    }

    /**
     * A piece's share of the CRC of a longer sequence in which {@code bytesAfter} bytes follow it:
     * the CRC of consecutive pieces is the XOR of their shares, taken in any order. So rows read by
     * different tasks, in any order, give the CRC of the tensor they make up.
     */
    public static int share(int crc, long bytesAfter) {
        return multModP(x2nModP(bytesAfter, 3), crc);
    }

    /** The CRC whose {@link #hex} text is {@code hex}. */
    public static int toInt(String hex) {
        return Integer.parseUnsignedInt(hex, 16);
    }

    /** The checksum's text form in manifests: eight lower-case hex digits. */
    public static String hex(int crc) {
        return String.format("%08x", crc);
    }

    private static int multModP(int a, int b) {
        int m = 1 << 31;
        int p = 0;
        while (true) {
            if ((a & m) != 0) {
                p ^= b;
                if ((a & (m - 1)) == 0) {
                    break;
                }
            }
            m >>>= 1;
            b = (b & 1) != 0 ? (b >>> 1) ^ POLY : b >>> 1;
        }
        return p;
    }

    private static int x2nModP(long n, int k) {
        int p = 1 << 31;
        while (n != 0) {
            if ((n & 1) != 0) {
                p = multModP(X2N[k & 31], p);
            }
            n >>>= 1;
            k++;
        }
        return p;
    }
}
