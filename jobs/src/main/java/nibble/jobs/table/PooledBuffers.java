package nibble.jobs.table;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.parquet.bytes.ByteBufferAllocator;

/**
 * Heap buffers for one Parquet reader's column chunks, handed back when its row group is done
 * ({@link PlannedInput} closes the row group's pages) and given out again for the next, instead of
 * new, zeroed ones for every byte read. A request takes the smallest free buffer that holds it, with
 * its limit at the size asked for; when none holds it, the largest free one (too small) is dropped
 * for a new one, so the pool never holds more buffers than one row group used at once. One reader,
 * one thread.
 */
final class PooledBuffers implements ByteBufferAllocator {
    private final List<ByteBuffer> free = new ArrayList<>();

    @Override
    public ByteBuffer allocate(int size) {
        int best = -1;
        int largest = -1;
        for (int i = 0; i < free.size(); i++) {
            int capacity = free.get(i).capacity();
            if (capacity >= size && (best < 0 || capacity < free.get(best).capacity())) {
                best = i;
            }
            if (largest < 0 || capacity > free.get(largest).capacity()) {
                largest = i;
            }
        }
        if (best >= 0) {
            return free.remove(best).clear().limit(size);
        }
        if (largest >= 0) {
            free.remove(largest);
        }
        return ByteBuffer.allocate(size);
    }

    @Override
    public void release(ByteBuffer b) {
        free.add(b);
    }

    @Override
    public boolean isDirect() {
        return false;
    }
}
