package nibble.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The read-ahead iterator outside Spark: order, errors after the good elements, the bound, and stopping. */
class ReadAheadTest {
    @Test
    void givesTheSourceInOrder() {
        List<Integer> in = IntStream.range(0, 10_000).boxed().toList();
        List<Integer> out = new ArrayList<>();
        try (ReadAhead<Integer> r = ReadAhead.of(in.iterator(), 7, "test")) {
            r.forEachRemaining(out::add);
            assertFalse(r.hasNext());
            assertThrows(NoSuchElementException.class, r::next);
        }
        assertEquals(in, out);
    }

    @Test
    void anEmptySourceHasNothing() {
        try (ReadAhead<Integer> r = ReadAhead.of(List.<Integer>of().iterator(), 4, "test")) {
            assertFalse(r.hasNext());
        }
    }

    @Test
    void aFailureComesAfterTheElementsBeforeIt() {
        Iterator<Integer> failing = new Iterator<>() {
            int i;

            @Override
            public boolean hasNext() {
                return true;
            }

            @Override
            public Integer next() {
                if (i == 5) {
                    throw new IllegalArgumentException("row 5 is bad");
                }
                return i++;
            }
        };
        try (ReadAhead<Integer> r = ReadAhead.of(failing, 2, "test")) {
            for (int i = 0; i < 5; i++) {
                assertEquals(i, r.next());
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::hasNext);
            assertEquals("row 5 is bad", e.getMessage());
        }
    }

    @Test
    void readsAtMostDepthAheadAndStopsWhenClosed() throws InterruptedException {
        AtomicInteger produced = new AtomicInteger();
        Iterator<Integer> endless = new Iterator<>() {
            @Override
            public boolean hasNext() {
                return true;
            }

            @Override
            public Integer next() {
                return produced.getAndIncrement();
            }
        };
        ReadAhead<Integer> r = ReadAhead.of(endless, 3, "test");
        assertEquals(0, r.next());
        Thread.sleep(300);
        // one taken, three queued, one in the reader's hand waiting for room
        assertTrue(produced.get() <= 5, "produced " + produced.get());
        r.close();
        Thread.sleep(300);
        int after = produced.get();
        Thread.sleep(300);
        assertEquals(after, produced.get(), "the reader stopped");
    }
}
