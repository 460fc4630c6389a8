package nibble.tests;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * A real S3 server on loopback: S3Proxy (filesystem backend) in its own JVM, because its Jetty and
 * jclouds dependencies clash with Spark's. Top-level folders of the base directory are buckets.
 */
final class S3Server implements AutoCloseable {
    final String identity;
    final String secret;
    final int port;
    final Path baseDir;
    private final Path props;
    private final Path log;
    private Process process;

    S3Server(Path workDir, String identity, String secret, String... buckets) throws IOException {
        this.identity = identity;
        this.secret = secret;
        this.baseDir = Files.createDirectories(workDir.resolve("s3-data"));
        for (String b : buckets) {
            Files.createDirectories(baseDir.resolve(b));
        }
        this.port = freePort();
        this.props = workDir.resolve("s3proxy.properties");
        this.log = workDir.resolve("s3proxy.log");
        Properties p = new Properties();
        p.setProperty("jclouds.provider", "filesystem");
        p.setProperty("jclouds.filesystem.basedir", baseDir.toString());
        p.setProperty("jclouds.identity", "local");
        p.setProperty("jclouds.credential", "local");
        p.setProperty("s3proxy.endpoint", endpoint());
        p.setProperty("s3proxy.authorization", "aws-v2-or-v4");
        p.setProperty("s3proxy.identity", identity);
        p.setProperty("s3proxy.credential", secret);
        try (OutputStream o = Files.newOutputStream(props)) {
            p.store(o, "S3Proxy for the Nibble S3 tests");
        }
    }

    /** The S3Proxy jar that the build copied to target/ (maven-dependency-plugin), or null. */
    static Path jar() {
        String j = System.getProperty("s3proxy.jar");
        return j != null && Files.isRegularFile(Path.of(j)) ? Path.of(j) : null;
    }

    String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    /** Starts the server (again, on the same port and data) and waits until it accepts connections. */
    void start() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        process = new ProcessBuilder(java.toString(), "-Xmx256m", "-jar", jar().toString(), "--properties", props.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("S3Proxy exited with " + process.exitValue() + ": " + Files.readString(log));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        throw new IllegalStateException("S3Proxy did not listen on " + port + " within 30 s: " + Files.readString(log));
    }

    /** Kills the server at once, as a crash or a network cut would. */
    void kill() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    String log() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** The S3A settings for this server (keys without the spark.hadoop. prefix). */
    List<String[]> s3aSettings() {
        return List.of(
                new String[] {"fs.s3a.endpoint", endpoint()},
                new String[] {"fs.s3a.path.style.access", "true"},
                new String[] {"fs.s3a.connection.ssl.enabled", "false"},
                new String[] {"fs.s3a.endpoint.region", "us-east-1"},
                new String[] {"fs.s3a.access.key", identity},
                new String[] {"fs.s3a.secret.key", secret},
                new String[] {"fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"},
                new String[] {"fs.s3a.committer.name", "magic"},
                new String[] {"fs.s3a.committer.magic.enabled", "true"},
                new String[] {"mapreduce.outputcommitter.factory.scheme.s3a", "org.apache.hadoop.fs.s3a.commit.S3ACommitterFactory"},
                // fail fast when the server is gone (the fault test), instead of minutes of retries
                new String[] {"fs.s3a.attempts.maximum", "1"},
                new String[] {"fs.s3a.retry.limit", "1"},
                new String[] {"fs.s3a.retry.interval", "100ms"},
                new String[] {"fs.s3a.connection.establish.timeout", "2s"},
                new String[] {"fs.s3a.connection.timeout", "5s"});
    }
}
