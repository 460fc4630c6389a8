package nibble.jobs.io;

import java.net.URI;
import java.util.Locale;
import java.util.Set;
import nibble.jobs.cli.UsageException;

/** URIs as Nibble shows and records them: never with the credentials a user may have put in them. */
public final class Uris {
    /** Schemes whose authority is {@code container@account}: an {@code @} there is not user info. */
    private static final Set<String> CONTAINER_AT_ACCOUNT = Set.of("abfs", "abfss", "wasb", "wasbs");

    private Uris() {
    }

    /** A URI without user info, so credentials embedded in it are never printed or recorded. */
    public static String redact(String uri) {
        try {
            URI u = new URI(uri);
            if (u.getUserInfo() != null && !CONTAINER_AT_ACCOUNT.contains(String.valueOf(u.getScheme()).toLowerCase(Locale.ROOT))) {
                return new URI(u.getScheme(), null, u.getHost(), u.getPort(), u.getPath(), u.getQuery(), u.getFragment()).toString();
            }
        } catch (Exception ignored) {
            // not a URI: a plain path
        }
        return uri;
    }

    /**
     * Refuses a URI that carries credentials, before anything (Hadoop included) sees it: Hadoop's own
     * log lines print such a URI whole ({@code WARN FileSystem: Failed to initialize filesystem
     * s3a://KEY:SECRET@...}). The message names the option and never echoes the URI.
     *
     * @param option the option the URI came from, e.g. {@code --input}
     * @param uri the value, or null (an absent optional value)
     * @throws UsageException exit code 2
     */
    public static void requireNoCredentials(String option, String uri) {
        if (uri != null && hasCredentials(uri)) {
            throw new UsageException(option + ": credentials in the URI are not accepted; use fs.s3a.access.key/"
                    + "fs.s3a.secret.key or a credentials provider (fs.s3a.aws.credentials.provider)");
        }
    }

    /**
     * Whether {@code uri} carries credentials: its authority (between {@code scheme://} and the next
     * {@code /}, {@code ?} or {@code #}) holds user info ({@code KEY:SECRET@bucket}, {@code KEY@bucket}),
     * or a "port" that is not a number, which is what {@code s3a://KEY:SE/CRET@bucket} (a secret with a
     * slash, as AWS secrets often have) looks like. {@code abfs}/{@code wasb} authorities are
     * {@code container@account} and only their port is checked. Plain paths never carry credentials.
     */
    public static boolean hasCredentials(String uri) {
        int sep = uri.indexOf("://");
        if (sep <= 0 || !uri.substring(0, sep).matches("[A-Za-z][A-Za-z0-9+.-]*")) {
            return false;
        }
        String scheme = uri.substring(0, sep).toLowerCase(Locale.ROOT);
        int start = sep + 3;
        int end = start;
        while (end < uri.length() && "/?#".indexOf(uri.charAt(end)) < 0) {
            end++;
        }
        String authority = uri.substring(start, end);
        int at = authority.lastIndexOf('@');
        if (at >= 0) {
            if (!CONTAINER_AT_ACCOUNT.contains(scheme)) {
                return true;
            }
            authority = authority.substring(at + 1);
        }
        String hostPort = authority.startsWith("[") && authority.indexOf(']') > 0
                ? authority.substring(authority.indexOf(']') + 1) : authority;
        int colon = hostPort.indexOf(':');
        return colon >= 0 && !hostPort.substring(colon + 1).matches("[0-9]*");
    }
}
