package nibble.common.quant;

/** What a recipe says to do with a tensor: quantize it with a {@link Scheme}, or {@link #KEEP} it as is. */
public sealed interface Treatment extends java.io.Serializable permits Scheme, Treatment.Keep {

    /** Keep the tensor in its source precision. */
    Keep KEEP = Keep.INSTANCE;

    default boolean isKeep() {
        return this instanceof Keep;
    }

    /** The singleton "keep in full precision" treatment. */
    enum Keep implements Treatment {
        INSTANCE;

        @Override
        public String toString() {
            return "keep";
        }
    }
}
