package nibble.tests;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real Spark standalone cluster on loopback: a Master and two Workers (1 core, 1 GiB each) as child
 * JVMs on the test classpath. No Spark distribution exists here, so the Workers run with
 * SPARK_TESTING=1 (the launcher then does not require SPARK_HOME/jars) and submissions pass the test
 * classpath as {@code spark.executor.extraClassPath}.
 */
final class StandaloneCluster implements AutoCloseable {
    final Path dir;
    final int port;
    final String classpath = System.getProperty("java.class.path");
    final List<String> jvmFlags = Arrays.stream(System.getProperty("spark.jvm.flags", "").trim().split("\\s+"))
            .filter(s -> !s.isEmpty()).toList();
    private final Path sparkHome;
    private final List<Process> processes = new ArrayList<>();
    final List<Process> workers = new ArrayList<>();

    StandaloneCluster(Path dir, int workers) throws Exception {
        this.dir = dir;
        this.sparkHome = Files.createDirectories(dir.resolve("spark-home"));
        this.port = S3Server.freePort();
        // the cluster's JVMs log at INFO (the tests read the Master's and Workers' logs)
        Files.writeString(dir.resolve("log4j2.properties"), String.join("\n",
                "rootLogger.level = info", "rootLogger.appenderRef.out.ref = out",
                "appender.out.type = Console", "appender.out.name = out", "appender.out.target = SYSTEM_ERR",
                "appender.out.layout.type = PatternLayout", "appender.out.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n",
                "logger.hadoop.name = org.apache.hadoop", "logger.hadoop.level = warn", ""));
        Process master = start("master", "org.apache.spark.deploy.master.Master",
                "--host", "127.0.0.1", "--port", String.valueOf(port), "--webui-port", "0");
        processes.add(master);
        waitForLog("master", "I have been elected leader", 1, master, 60);
        for (int i = 0; i < workers; i++) {
            Path work = Files.createDirectories(dir.resolve("worker-" + i));
            Process w = start("worker-" + i, "org.apache.spark.deploy.worker.Worker", url(), "--host", "127.0.0.1",
                    "--cores", "1", "--memory", "1g", "--webui-port", "0", "--work-dir", work.toString());
            processes.add(w);
            this.workers.add(w);
        }
        waitForLog("master", "Registering worker", workers, master, 60);
    }

    String url() {
        return "spark://127.0.0.1:" + port;
    }

    private ProcessBuilder java(String name, String mainClass, String heap, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx" + heap);
        cmd.addAll(jvmFlags);
        cmd.add("-Dlog4j2.configurationFile=" + dir.resolve("log4j2.properties").toUri());
        cmd.add("-cp");
        cmd.add(classpath);
        cmd.add(mainClass);
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log(name).toFile()));
        Map<String, String> env = pb.environment();
        env.put("SPARK_TESTING", "1");
        env.put("SPARK_HOME", sparkHome.toString());
        env.put("SPARK_SCALA_VERSION", "2.13");
        env.put("SPARK_LOCAL_IP", "127.0.0.1");
        env.remove("SPARK_CONF_DIR");
        return pb;
    }

    private Process start(String name, String mainClass, String... args) throws IOException {
        return java(name, mainClass, "256m", List.of(args)).start();
    }

    Path log(String name) {
        return dir.resolve(name + ".log");
    }

    String logText(String name) {
        try {
            return Files.exists(log(name)) ? Files.readString(log(name)) : "";
        } catch (IOException e) {
            return "";
        }
    }

    /** The result of a spark-submit run: exit code and its whole console output. */
    record Submit(int code, String output) {
    }

    /** The spark-submit settings every submission to this cluster needs. */
    List<String> submitConf() {
        String flags = String.join(" ", jvmFlags);
        return List.of("--master", url(), "--deploy-mode", "client",
                "--conf", "spark.executor.memory=512m",
                "--conf", "spark.executor.cores=1",
                "--conf", "spark.cores.max=2",
                "--conf", "spark.driver.host=127.0.0.1",
                "--conf", "spark.driver.bindAddress=127.0.0.1",
                "--conf", "spark.ui.enabled=false",
                "--conf", "spark.executor.extraClassPath=" + classpath,
                "--conf", "spark.executor.extraJavaOptions=" + flags);
    }

    /** Starts {@code org.apache.spark.deploy.SparkSubmit} in a child JVM, as the spark-submit script would. */
    Process submit(String name, List<String> args) throws IOException {
        List<String> all = new ArrayList<>(submitConf());
        all.addAll(args);
        return java(name, "org.apache.spark.deploy.SparkSubmit", "1g", all).start();
    }

    Submit await(String name, Process p, long seconds) throws Exception {
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(name + " did not finish within " + seconds + " s:\n" + tail(logText(name)));
        }
        return new Submit(p.exitValue(), logText(name));
    }

    static String tail(String s) {
        return s.length() > 6000 ? s.substring(s.length() - 6000) : s;
    }

    /** The executor JVMs the Workers launched (their direct children). */
    List<ProcessHandle> executors() {
        List<ProcessHandle> out = new ArrayList<>();
        for (Process w : workers) {
            w.toHandle().children().filter(c -> commandLine(c).contains("CoarseGrainedExecutorBackend")).forEach(out::add);
        }
        return out;
    }

    /** The full command line (ProcessHandle.Info can be empty for long ones), from /proc on Linux. */
    static String commandLine(ProcessHandle p) {
        try {
            return Files.readString(Path.of("/proc", String.valueOf(p.pid()), "cmdline")).replace('\0', ' ');
        } catch (IOException | RuntimeException e) {
            return p.info().commandLine().orElse("");
        }
    }

    private void waitForLog(String name, String text, int times, Process p, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        Pattern pat = Pattern.compile(Pattern.quote(text));
        while (System.nanoTime() < deadline) {
            Matcher m = pat.matcher(logText(name));
            int n = 0;
            while (m.find()) {
                n++;
            }
            if (n >= times) {
                return;
            }
            if (!p.isAlive()) {
                break;
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("'" + text + "' x" + times + " not seen in the " + name + " log:\n" + tail(logText(name)));
    }

    @Override
    public void close() throws Exception {
        for (int i = processes.size() - 1; i >= 0; i--) {
            Process p = processes.get(i);
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }
}
