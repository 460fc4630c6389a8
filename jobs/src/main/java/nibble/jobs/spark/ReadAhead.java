package nibble.jobs.spark;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * An iterator that drains its source on a second thread, up to {@code depth} elements ahead, so that
 * a task's reading (Parquet decoding, checksums) overlaps the work it does per element (quantizing,
 * writing). Order is the source's; an exception from the source is thrown by {@link #next} or
 * {@link #hasNext} in the caller's thread, after the elements read before it. Memory is bounded by
 * {@code depth} elements.
 *
 * <p>It pays when a core would otherwise be idle: a stage with fewer tasks than cores, such as
 * {@code quantize} writing three files on two cores, where the last task runs alone. {@link #close}
 * stops the reader; a task that ends early (failure, kill) must call it, which {@link #of} arranges
 * through the task's completion listener.
 */
public final class ReadAhead<T> implements Iterator<T>, AutoCloseable {
    private static final Object END = new Object();

    /** Rows a task reads ahead of its per-row work: a few MiB for rows of a few thousand F32 values. */
    public static final int TASK_ROWS = 64;

    private final BlockingQueue<Object> queue;
    private final Thread reader;
    private volatile boolean closed;
    private Object head;

    private record Failure(Throwable error) {
    }

    private ReadAhead(Iterator<T> source, int depth, String name) {
        this.queue = new ArrayBlockingQueue<>(depth);
        this.reader = new Thread(() -> drain(source), name);
        reader.setDaemon(true);
        reader.start();
    }

    /** Whether tasks read ahead: yes, unless the JVM runs with {@code -Dnibble.readahead=false} (for A/B benchmarks). */
    public static boolean enabled() {
        return Boolean.parseBoolean(System.getProperty("nibble.readahead", "true"));
    }

    /** {@link #of} when {@link #enabled}, else {@code source} itself. */
    public static <T> Iterator<T> ifEnabled(Iterator<T> source, int depth, String name) {
        return enabled() ? of(source, depth, name) : source;
    }

    /** Reads {@code source} ahead in the current Spark task (stopped when the task completes), or standalone outside one. */
    public static <T> ReadAhead<T> of(Iterator<T> source, int depth, String name) {
        ReadAhead<T> ahead = new ReadAhead<>(source, depth, name);
        org.apache.spark.TaskContext task = org.apache.spark.TaskContext.get();
        if (task != null) {
            task.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) ctx -> ahead.close());
        }
        return ahead;
    }

    private void drain(Iterator<T> source) {
        try {
            while (!closed && source.hasNext()) {
                put(source.next());
            }
            put(END);
        } catch (InterruptedException e) {
            // closed: the consumer has gone
        } catch (Throwable t) {
            try {
                put(new Failure(t));
            } catch (InterruptedException e) {
                // closed
            }
        }
    }

    private void put(Object o) throws InterruptedException {
        while (!closed) {
            if (queue.offer(o, 100, TimeUnit.MILLISECONDS)) {
                return;
            }
        }
        throw new InterruptedException("closed");
    }

    @Override
    public boolean hasNext() {
        if (head == null) {
            try {
                head = queue.take();
            } catch (InterruptedException e) {
                close();
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while reading ahead", e);
            }
        }
        if (head instanceof Failure f) {
            close();
            if (f.error() instanceof RuntimeException r) {
                throw r;
            }
            if (f.error() instanceof Error e) {
                throw e;
            }
            throw new IllegalStateException(f.error());
        }
        return head != END;
    }

    @Override
    @SuppressWarnings("unchecked")
    public T next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        T t = (T) head;
        head = null;
        return t;
    }

    /** Stops the reader thread; elements not yet taken are dropped. */
    @Override
    public void close() {
        closed = true;
        reader.interrupt();
    }
}
