package nibble.jobs.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import nibble.jobs.cli.UsageException;
import org.junit.jupiter.api.Test;

class UrisTest {
    @Test
    void credentialsInTheAuthorityAreFound() {
        for (String uri : new String[] {
            "s3a://AKIAKEY:SECRET@bucket/path", "s3a://AKIAKEY@bucket/path", "s3a://AKIAKEY:SE/CRET@bucket/path",
            "s3a://AKIAKEY:SE+CRET/with/slashes@bucket", "S3A://K:S@b", "s3a://K:S#x@bucket/", "s3a://K:S?x@bucket/",
            "ftp://user:pass@host/file", "hdfs://user@namenode:8020/x", "abfs://container@account.dfs.core.windows.net:xyz/p"}) {
            assertTrue(Uris.hasCredentials(uri), uri);
        }
        for (String uri : new String[] {
            "s3a://bucket/models/llama@v2/", "/tmp/a:b@c", "relative/path@v1", "file:/tmp/x@y", "file:///tmp/x", "hdfs://nn:8020/p",
            "hdfs://nn/p", "hdfs://[::1]:8020/p", "hdfs://[::1]/p", "abfs://container@account.dfs.core.windows.net/p",
            "wasbs://c@a.blob.core.windows.net:443/p", "s3a://bucket", "C:\\models\\x"}) {
            assertFalse(Uris.hasCredentials(uri), uri);
        }
    }

    @Test
    void theRefusalNamesTheOptionAndNeverTheSecret() {
        UsageException e = assertThrows(UsageException.class,
                () -> Uris.requireNoCredentials("--input", "s3a://AKIAKEY:TOPSECRET@bucket/m/v1/"));
        assertTrue(e.getMessage().startsWith("--input: credentials in the URI are not accepted"), e.getMessage());
        assertFalse(e.getMessage().contains("TOPSECRET") || e.getMessage().contains("AKIAKEY"), e.getMessage());
        Uris.requireNoCredentials("--data", null);
    }

    @Test
    void redactionDropsUserInfoButKeepsAzureContainers() {
        assertEquals("s3a://bucket/p", Uris.redact("s3a://K:S@bucket/p"));
        assertEquals("abfs://c@a.dfs.core.windows.net/p", Uris.redact("abfs://c@a.dfs.core.windows.net/p"));
        assertEquals("/plain/path", Uris.redact("/plain/path"));
    }
}
