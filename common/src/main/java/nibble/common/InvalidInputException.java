package nibble.common;

/**
 * Bad input: a corrupt or unsupported file, a bad option or recipe. The message is one line that
 * names the input and the problem; launchers print it and exit with code 3.
 */
public class InvalidInputException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public InvalidInputException(String message) {
        super(message);
    }

    public InvalidInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
