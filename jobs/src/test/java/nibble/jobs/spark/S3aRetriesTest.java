package nibble.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;

class S3aRetriesTest {
    private static Configuration with(String... kv) {
        Configuration c = new Configuration(false);
        for (int i = 0; i < kv.length; i += 2) {
            c.set(kv[i], kv[i + 1]);
        }
        return c;
    }

    private static Configuration defaults() {
        Configuration c = new Configuration(false);
        S3aRetries.DEFAULTS.forEach(c::set);
        return c;
    }

    @Test
    void nibblesDefaultsBoundASilentStoreToAboutFiveAndAHalfMinutes() {
        // 5 S3A attempts x 2 SDK attempts x 30 s, + sleeps of at most 1.5 x (1 + 2 + 4 + 8) s
        assertEquals(5 * 2 * 30_000 + 22_500, S3aRetries.boundMillis(defaults()));
        assertTrue(S3aRetries.describe(defaults()).endsWith("fs.s3a.connection.timeout=30s; at most about 323 s"),
                S3aRetries.describe(defaults()));
    }

    @Test
    void timeoutsBelowS3asMinimumCountAsFifteenSecondsAndAreShownSo() {
        Configuration c = with("fs.s3a.retry.limit", "1", "fs.s3a.retry.interval", "100ms", "fs.s3a.attempts.maximum", "0",
                "fs.s3a.connection.establish.timeout", "15s", "fs.s3a.connection.timeout", "1s");
        assertEquals(2 * 15_000 + 300, S3aRetries.boundMillis(c));
        assertEquals("fs.s3a.retry.limit=1, fs.s3a.retry.interval=100ms, fs.s3a.attempts.maximum=0, "
                + "fs.s3a.connection.establish.timeout=15s, fs.s3a.connection.timeout=1s (S3A uses 15s); at most about 30 s",
                S3aRetries.describe(c));
    }

    @Test
    void theLongerOfConnectAndReadTimeoutBoundsEachAttempt() {
        Configuration c = with("fs.s3a.retry.limit", "0", "fs.s3a.attempts.maximum", "2",
                "fs.s3a.connection.establish.timeout", "40s", "fs.s3a.connection.timeout", "20s");
        assertEquals(3 * 40_000, S3aRetries.boundMillis(c));
    }
}
