package nibble.jobs.action;

/**
 * Where an action says what it found or is about to do ("safetensors checkpoint: 12 tensors ..."),
 * for a user watching a long run; actions print nothing themselves. The launcher sends notes to
 * stderr; programs and tests may drop them ({@link #NONE}).
 */
@FunctionalInterface
public interface Notes {
    Notes NONE = (action, message) -> { };

    /** A note from {@code action} (e.g. "shard"). */
    void note(String action, String message);
}
