package nibble.jobs.io;

import java.net.URI;

/** URIs as Nibble shows and records them: never with the credentials a user may have put in them. */
public final class Uris {
    private Uris() {
    }

    /** A URI without user info, so credentials embedded in it are never printed or recorded. */
    public static String redact(String uri) {
        try {
            URI u = new URI(uri);
            if (u.getUserInfo() != null) {
                return new URI(u.getScheme(), null, u.getHost(), u.getPort(), u.getPath(), u.getQuery(), u.getFragment()).toString();
            }
        } catch (Exception ignored) {
            // not a URI: a plain path
        }
        return uri;
    }
}
