package nibble.tests;

import java.io.StringWriter;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.WriterAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.layout.PatternLayout;

/** Captures everything Spark, Hadoop and the AWS SDK log (root logger, at DEBUG) while open. */
final class LogCapture implements AutoCloseable {
    private final StringWriter text = new StringWriter();
    private final WriterAppender appender;
    private final LoggerContext ctx;
    private final Level before;

    private static final String[] DEBUG_LOGGERS = {"org.apache.hadoop.fs.s3a", "software.amazon.awssdk", "org.apache.spark.internal.io.cloud"};

    LogCapture() {
        ctx = (LoggerContext) LogManager.getContext(false);
        Configuration cfg = ctx.getConfiguration();
        appender = WriterAppender.newBuilder().setName("nibble-test-capture").setTarget(text)
                .setLayout(PatternLayout.newBuilder().withPattern("%p %c: %m%n%throwable").build()).build();
        appender.start();
        cfg.addAppender(appender);
        LoggerConfig root = cfg.getRootLogger();
        before = root.getLevel();
        // The capture sees INFO from everything and DEBUG from S3A, the AWS SDK and the cloud committers;
        // the console keeps its WARN threshold.
        for (var e : root.getAppenders().entrySet()) {
            root.removeAppender(e.getKey());
            root.addAppender(e.getValue(), Level.WARN, null);
        }
        root.addAppender(appender, Level.ALL, null);
        root.setLevel(Level.INFO);
        for (String name : DEBUG_LOGGERS) {
            LoggerConfig lc = new LoggerConfig(name, Level.DEBUG, true);
            cfg.addLogger(name, lc);
        }
        ctx.updateLoggers();
    }

    String text() {
        synchronized (text) {
            return text.toString();
        }
    }

    @Override
    public void close() {
        Configuration cfg = ctx.getConfiguration();
        for (String name : DEBUG_LOGGERS) {
            cfg.removeLogger(name);
        }
        LoggerConfig root = cfg.getRootLogger();
        root.removeAppender(appender.getName());
        for (var e : root.getAppenders().entrySet()) {
            root.removeAppender(e.getKey());
            root.addAppender(e.getValue(), null, null);
        }
        root.setLevel(before);
        ctx.updateLoggers();
        appender.stop();
    }
}
