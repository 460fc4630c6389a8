package nibble.common.tokenizer;

/**
 * The character classes llama.cpp's pre-tokenizers test ({@code unicode_cpt_flags} in its
 * {@code unicode.cpp}): letter ({@code \p{L}}), number ({@code \p{N}}) and whitespace ({@code \s}, the
 * Unicode White_Space property). Letters and numbers come from Java's Unicode tables (the JDK's Unicode
 * version, which may differ from llama.cpp's generated tables for code points assigned recently).
 */
final class Codepoints {
    private Codepoints() {
    }

    static boolean isLetter(int cp) {
        return switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER -> true;
            default -> false;
        };
    }

    static boolean isNumber(int cp) {
        return switch (Character.getType(cp)) {
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> true;
            default -> false;
        };
    }

    /** Unicode's White_Space property, the set llama.cpp's {@code unicode_set_whitespace} holds. */
    static boolean isWhitespace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F
                || cp == 0x3000;
    }
}
