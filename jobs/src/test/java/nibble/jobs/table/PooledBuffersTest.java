package nibble.jobs.table;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class PooledBuffersTest {
    @Test
    void aReleasedBufferServesTheNextRequestItHolds() {
        PooledBuffers pool = new PooledBuffers();
        ByteBuffer big = pool.allocate(100);
        ByteBuffer small = pool.allocate(40);
        big.position(70);
        pool.release(big);
        pool.release(small);
        ByteBuffer b = pool.allocate(30); // the smallest that holds it
        assertSame(small, b);
        assertEquals(0, b.position());
        assertEquals(30, b.limit());
        ByteBuffer c = pool.allocate(60);
        assertSame(big, c);
        assertEquals(0, c.position());
        assertEquals(60, c.limit());
        ByteBuffer d = pool.allocate(60); // none left
        assertNotSame(big, d);
        assertEquals(60, d.capacity());
    }

    @Test
    void aRequestNoFreeBufferHoldsReplacesTheLargestFreeOne() {
        PooledBuffers pool = new PooledBuffers();
        ByteBuffer a = pool.allocate(30);
        ByteBuffer b = pool.allocate(50);
        pool.release(a);
        pool.release(b);
        ByteBuffer c = pool.allocate(80); // drops b: the pool stays at two buffers
        assertEquals(80, c.capacity());
        pool.release(c);
        assertSame(a, pool.allocate(20));
        assertSame(c, pool.allocate(40));
        assertNotSame(b, pool.allocate(40));
    }
}
