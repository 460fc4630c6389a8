package nibble.common.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * GPT-2's byte-level alphabet: each of the 256 byte values is spelled as one printable code point
 * (printable Latin-1 bytes as themselves, the others as U+0100 upwards in byte order), so a vocabulary
 * of strings can cover every byte sequence. A space is {@code Ġ} (U+0120), a newline {@code Ċ}.
 * Every symbol is below U+0180, so one Java {@code char} per byte.
 */
final class ByteLevel {
    private static final char[] TO_CHAR = new char[256];
    private static final int[] TO_BYTE = new int[0x180];

    static {
        java.util.Arrays.fill(TO_BYTE, -1);
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = (char) (printable ? b : next++);
            TO_CHAR[b] = c;
            TO_BYTE[c] = b;
        }
    }

    private ByteLevel() {
    }

    /** The UTF-8 bytes of {@code text}, each spelled as its byte-level symbol. */
    static String encode(String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        char[] out = new char[utf8.length];
        for (int i = 0; i < utf8.length; i++) {
            out[i] = TO_CHAR[utf8[i] & 0xFF];
        }
        return new String(out);
    }

    /** The byte a symbol stands for, or -1 when {@code c} is not one of the 256 symbols. */
    static int toByte(char c) {
        return c < TO_BYTE.length ? TO_BYTE[c] : -1;
    }
}
