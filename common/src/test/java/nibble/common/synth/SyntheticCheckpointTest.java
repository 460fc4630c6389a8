package nibble.common.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import nibble.common.DType;
import nibble.common.TensorInfo;
import nibble.common.format.CheckpointHeader;
import nibble.common.format.CheckpointReader;
import nibble.common.format.SourceTensor;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SyntheticCheckpointTest {

    @TempDir
    Path tmp;

    @ParameterizedTest(name = "{0} shardBytes={1}")
    @CsvSource({"F32, 0", "F16, 0", "BF16, 0", "F32, 100000", "F16, 60000", "BF16, 60000"})
    void writesWhatTheReaderReadsBack(DType dtype, long maxShardBytes) throws Exception {
        SyntheticSpec spec = SyntheticSpec.preset("tiny").withDtype(dtype);
        Path dir = tmp.resolve("ckpt");
        List<String> written = SyntheticCheckpoint.write(dir, spec, maxShardBytes);

        CheckpointHeader h = CheckpointReader.read(dir);
        assertEquals("safetensors", h.format());
        if (maxShardBytes <= 0) {
            assertEquals(List.of("model.safetensors"), h.files());
            assertEquals(List.of("config.json", "model.safetensors"), written);
        } else {
            assertTrue(h.files().size() >= 2, "several shards: " + h.files());
            int n = h.files().size();
            for (int i = 0; i < n; i++) {
                assertEquals(String.format("model-%05d-of-%05d.safetensors", i + 1, n), h.files().get(i));
            }
            assertTrue(written.contains("model.safetensors.index.json"));
        }

        List<TensorInfo> expected = spec.tensors();
        assertEquals(expected, h.tensors().stream().map(SourceTensor::info).toList());
        Map<String, Object> arch = h.architecture();
        assertEquals(SyntheticCheckpoint.config(spec), arch);
        assertEquals(64, arch.get("hidden_size"));
        assertEquals(dtype == DType.F32 ? "float32" : dtype == DType.F16 ? "float16" : "bfloat16",
                arch.get("torch_dtype"));

        for (SourceTensor st : h.tensors()) {
            byte[] file = Files.readAllBytes(dir.resolve(st.file()));
            TensorInfo t = st.info();
            SyntheticValues values = SyntheticValues.of(t, spec.seed());
            float[] scratch = new float[(int) t.rowLength()];
            ByteBuffer regenerated = ByteBuffer.allocate((int) t.byteLength()).order(ByteOrder.LITTLE_ENDIAN);
            for (long r = t.rows() - 1; r >= 0; r--) {   // any row on its own, in any order
                regenerated.position((int) (r * t.rowBytes()));
                values.writeRow(r, scratch, regenerated);
            }
            byte[] actual = new byte[(int) t.byteLength()];
            System.arraycopy(file, (int) st.offset(), actual, 0, actual.length);
            assertArrayEquals(regenerated.array(), actual, t.name());
        }
    }

    @ParameterizedTest(name = "shardBytes={0}")
    @CsvSource({"0", "60000"})
    void sameSpecGivesIdenticalBytes(long maxShardBytes) throws Exception {
        SyntheticSpec spec = SyntheticSpec.preset("tiny").withDtype(DType.BF16).withSeed(7);
        List<String> a = SyntheticCheckpoint.write(tmp.resolve("a"), spec, maxShardBytes);
        List<String> b = SyntheticCheckpoint.write(tmp.resolve("b"), spec, maxShardBytes);
        assertEquals(a, b);
        for (String f : a) {
            assertArrayEquals(Files.readAllBytes(tmp.resolve("a").resolve(f)),
                    Files.readAllBytes(tmp.resolve("b").resolve(f)), f);
        }
        SyntheticCheckpoint.write(tmp.resolve("c"), spec.withSeed(8), maxShardBytes);
        String shard = a.stream().filter(f -> f.endsWith(".safetensors")).findFirst().orElseThrow();
        assertTrue(!java.util.Arrays.equals(Files.readAllBytes(tmp.resolve("a").resolve(shard)),
                Files.readAllBytes(tmp.resolve("c").resolve(shard))), "another seed gives other values");
    }
}
