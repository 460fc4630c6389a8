package nibble.common.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import nibble.common.InvalidInputException;
import org.junit.jupiter.api.Test;

class LlamaConfigTest {

    static Map<String, Object> hf() {
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("model_type", "llama");
        a.put("hidden_size", 64);
        a.put("intermediate_size", 176);
        a.put("num_hidden_layers", 2);
        a.put("num_attention_heads", 8);
        a.put("num_key_value_heads", 2);
        a.put("vocab_size", 100);
        a.put("max_position_embeddings", 2048);
        return a;
    }

    @Test
    void readsHuggingFaceKeysWithDefaults() {
        LlamaConfig c = LlamaConfig.fromArchitecture(hf());
        assertEquals(64, c.hiddenSize());
        assertEquals(8, c.headDim());
        assertEquals(16, c.kvDim());
        assertEquals(4, c.groupSize());
        assertFalse(c.tieWordEmbeddings());
        assertEquals(1e-5, c.rmsNormEps());
        assertEquals(10000.0, c.ropeTheta());
        assertEquals(RopeLayout.HALF, c.ropeLayout());
    }

    @Test
    void readsLlama2cKeys() {
        Map<String, Object> a = hf();
        a.put("nibble_rope_layout", "interleaved");
        a.put("tie_word_embeddings", true);
        a.put("rms_norm_eps", 1e-6);
        a.put("rope_theta", 500000.0);
        a.remove("num_key_value_heads");
        LlamaConfig c = LlamaConfig.fromArchitecture(a);
        assertEquals(RopeLayout.INTERLEAVED, c.ropeLayout());
        assertTrue(c.tieWordEmbeddings());
        assertEquals(1e-6, c.rmsNormEps());
        assertEquals(500000.0, c.ropeTheta());
        assertEquals(8, c.numKvHeads());
    }

    @Test
    void missingKeyIsNamed() {
        Map<String, Object> a = hf();
        a.remove("intermediate_size");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> LlamaConfig.fromArchitecture(a));
        assertTrue(e.getMessage().contains("'intermediate_size'"), e.getMessage());
    }

    @Test
    void refusesInconsistentShapes() {
        Map<String, Object> a = hf();
        a.put("num_attention_heads", 6);
        assertTrue(assertThrows(InvalidInputException.class, () -> LlamaConfig.fromArchitecture(a)).getMessage()
                .contains("does not divide hidden_size"));
        Map<String, Object> b = hf();
        b.put("num_key_value_heads", 3);
        assertTrue(assertThrows(InvalidInputException.class, () -> LlamaConfig.fromArchitecture(b)).getMessage()
                .contains("num_key_value_heads=3"));
        Map<String, Object> c = hf();
        c.put("hidden_size", 0);
        assertTrue(assertThrows(InvalidInputException.class, () -> LlamaConfig.fromArchitecture(c)).getMessage()
                .contains("hidden_size=0"));
        Map<String, Object> d = hf();
        d.put("vocab_size", 1.5);
        assertTrue(assertThrows(InvalidInputException.class, () -> LlamaConfig.fromArchitecture(d)).getMessage()
                .contains("'vocab_size' must be an integer"));
    }

    @Test
    void refusesWhatItCannotRun() {
        Map<String, Object> a = hf();
        a.put("model_type", "gpt2");
        assertThrows(InvalidInputException.class, () -> LlamaConfig.fromArchitecture(a));
        Map<String, Object> b = hf();
        b.put("rope_scaling", Map.of("rope_type", "llama3"));
        assertThrows(InvalidInputException.class, () -> LlamaConfig.fromArchitecture(b));
        Map<String, Object> c = hf();
        c.put("nibble_rope_layout", "diagonal");
        assertThrows(InvalidInputException.class, () -> LlamaConfig.fromArchitecture(c));
        assertThrows(InvalidInputException.class, () -> LlamaConfig.fromArchitecture(null));
    }
}
