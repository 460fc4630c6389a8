package nibble.jobs.action;

/** What {@link SampleAction} wrote: {@code args.sequences()} sequences of {@code args.sequenceLength()} tokens. */
public record SampleResult(SampleArgs args) {
}
