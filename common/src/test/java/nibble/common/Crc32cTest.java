package nibble.common;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class Crc32cTest {

    @Test
    void knownVector() {
        assertEquals(0xE3069283, Crc32c.of("123456789".getBytes()));
    }

    @Test
    void combineEqualsCrcOfConcatenation() {
        SplittableRandom rnd = new SplittableRandom(7);
        for (int trial = 0; trial < 200; trial++) {
            byte[] data = new byte[rnd.nextInt(0, 3000)];
            rnd.nextBytes(data);
            int cut = data.length == 0 ? 0 : rnd.nextInt(0, data.length + 1);
            int a = Crc32c.of(data, 0, cut);
            int b = Crc32c.of(data, cut, data.length - cut);
            assertEquals(Crc32c.of(data), Crc32c.combine(a, b, (long) data.length - cut), "cut " + cut);
        }
    }

    @Test
    void rowsCombineWithOneOperator() {
        SplittableRandom rnd = new SplittableRandom(11);
        int rowBytes = 172 * 4;
        byte[] all = new byte[rowBytes * 50];
        rnd.nextBytes(all);
        int op = Crc32c.combineOperator(rowBytes);
        int crc = 0;
        for (int r = 0; r < 50; r++) {
            crc = Crc32c.combine(crc, Crc32c.of(all, r * rowBytes, rowBytes), op);
        }
        assertEquals(Crc32c.of(all), crc);
    }

    @Test
    void sharesOfRowsInAnyOrderXorToTheCrc() {
        SplittableRandom rnd = new SplittableRandom(13);
        int rowBytes = 64 * 4 + 3;
        int rows = 37;
        byte[] all = new byte[rowBytes * rows];
        rnd.nextBytes(all);
        int crc = 0;
        for (int k = 0; k < rows; k++) {
            int r = (k * 11) % rows; // a permutation of the rows
            crc ^= Crc32c.share(Crc32c.of(all, r * rowBytes, rowBytes), (long) (rows - 1 - r) * rowBytes);
        }
        assertEquals(Crc32c.of(all), crc);
        assertEquals(Crc32c.of(all, 0, rowBytes), Crc32c.share(Crc32c.of(all, 0, rowBytes), 0), "nothing after: the CRC itself");
    }
}
