package nibble.jobs.action;

/**
 * What {@link SampleAction} wrote.
 *
 * @param sequences sequences written (sampled, or text chunks)
 * @param sequenceLength tokens per sequence
 */
public record SampleResult(SampleArgs args, int sequences, int sequenceLength) {
}
