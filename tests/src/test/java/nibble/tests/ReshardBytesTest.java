package nibble.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import nibble.common.table.FileEntry;
import nibble.common.table.Manifest;

/**
 * A re-shard ({@code shard --input <table>}) with {@code --compression snappy} and {@code zstd} and
 * another {@code --target-file-mb} writes the same Parquet pages as the DataFrame writer's re-shard did
 * before re-shards were written task-side (issue 12): the digests below are of the files that code wrote
 * for these commands on stories260K. They cover each file up to its footer: the footer's per-column
 * encoding lists come from a {@code HashSet} in parquet-mr, whose order follows the enum constants'
 * identity hash codes and so could change from one JVM to the next when these digests were taken
 * (footers are canonical now, CanonicalFooterTest). Within one
 * JVM the order is fixed, so the whole files must equal those of {@code shard} from the checkpoint with
 * the same settings.
 */
class ReshardBytesTest {
    @TempDir
    Path tmp;

    @Test
    void compressedReshardsWriteTheOldPathsPages() throws Exception {
        Path model = TestSpark.stories260K();
        Assumptions.assumeTrue(model != null && Files.exists(model), "stories260K is absent");
        Path table = tmp.resolve("table");
        ok("shard", "--input", model.toString(), "--output", table.toString(), "--target-file-mb", "0.2");
        Manifest in = Tables.manifest(table);

        Path snappy = tmp.resolve("snappy");
        ok("shard", "--input", table.toString(), "--output", snappy.toString(), "--compression", "snappy", "--target-file-mb", "0.1");
        assertPages(snappy, 10, 1_085_115, "d1c58899ae2b9da004ad09e6b8ce8a3b902fdc652f11ff254b6451574c8bac35");
        Path zstd = tmp.resolve("zstd");
        ok("shard", "--input", table.toString(), "--output", zstd.toString(), "--compression", "zstd", "--target-file-mb", "0.3");
        assertPages(zstd, 4, 983_243, "90be09819c6c97882b6a55bd7aab0fce362547329e65eb7911b9b699a7e6ff27");
        assertEquals(in.checksums(), Tables.manifest(snappy).checksums());
        assertEquals(in.checksums(), Tables.manifest(zstd).checksums());

        // the same files, footers included, as shard from the checkpoint writes in this JVM
        Path direct = tmp.resolve("direct");
        ok("shard", "--input", model.toString(), "--output", direct.toString(), "--compression", "snappy", "--target-file-mb", "0.1");
        Map<String, byte[]> a = Tables.files(direct.resolve("tensors"));
        Map<String, byte[]> b = Tables.files(snappy.resolve("tensors"));
        assertEquals(a.keySet(), b.keySet());
        a.forEach((k, v) -> assertArrayEquals(v, b.get(k), k));
        assertEquals(Tables.manifest(direct).files(), Tables.manifest(snappy).files());
    }

    private static void ok(String... args) {
        TestSpark.Run r = TestSpark.nibble(args);
        assertEquals(0, r.code(), r.err());
    }

    /** Checks the file count, their total size (manifest and disk) and a SHA-256 of every file's bytes before its footer. */
    private static void assertPages(Path out, int files, long bytes, String sha256) throws Exception {
        List<FileEntry> entries = Tables.manifest(out).files();
        assertEquals(files, entries.size(), out + ": files");
        assertEquals(bytes, entries.stream().mapToLong(FileEntry::bytes).sum(), out + ": bytes in the manifest");
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        long onDisk = 0;
        for (Map.Entry<String, byte[]> f : new TreeMap<>(Tables.files(out.resolve("tensors"))).entrySet()) {
            if (!f.getKey().endsWith(".parquet") || f.getKey().startsWith(".")) {
                continue;
            }
            byte[] b = f.getValue();
            onDisk += b.length;
            int footer = ByteBuffer.wrap(b, b.length - 8, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
            md.update(b, 0, b.length - 8 - footer);
        }
        assertEquals(bytes, onDisk, out + ": bytes on disk");
        assertEquals(sha256, HexFormat.of().formatHex(md.digest()), out + ": pages differ from the old re-shard's");
    }
}
