package nibble.common.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * The fuzz targets as JUnit tests. Under {@code mvn verify} (no {@code JAZZER_FUZZ}) each runs the saved
 * corpus in {@code src/test/resources/nibble/common/fuzz/FuzzTargetsTestInputs/<target>/}: seeds of valid
 * files and the inputs kept from fuzzing runs, among them those that found bugs. Long runs: {@code bin/fuzz}.
 */
class FuzzTargetsTest {
    @FuzzTest
    void safetensors(byte[] data) {
        FuzzTargets.run("safetensors", data);
    }

    @FuzzTest
    void llama2c(byte[] data) {
        FuzzTargets.run("llama2c", data);
    }

    @FuzzTest
    void gguf(byte[] data) {
        FuzzTargets.run("gguf", data);
    }

    @FuzzTest
    void recipe(byte[] data) {
        FuzzTargets.run("recipe", data);
    }

    @FuzzTest
    void manifest(byte[] data) {
        FuzzTargets.run("manifest", data);
    }
}
