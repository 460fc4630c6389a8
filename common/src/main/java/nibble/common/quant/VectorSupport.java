package nibble.common.quant;

/**
 * Whether the codecs' Vector API paths ({@link UniformVector}, {@link TableVector}) run, decided
 * once per JVM. They need the incubator module {@code jdk.incubator.vector} in the boot layer
 * ({@code --add-modules=jdk.incubator.vector}, which the parent POM's {@code spark.jvm.flags},
 * {@code bin/nibble} and {@code conf/spark-defaults.*.conf} pass). Without it, or with {@code
 * -Dnibble.vector=false}, the codecs run their scalar fast paths, which give the same bytes: a
 * Spark executor started without the flag quantizes correctly, only slower.
 *
 * <p>Nothing here names a {@code jdk.incubator.vector} type: the vector classes are loaded only
 * after the probe has found the module, so this class links on any JDK 17.
 */
public final class VectorSupport {
    private VectorSupport() {
    }

    /** The incubator module's name. */
    public static final String MODULE = "jdk.incubator.vector";

    private static final boolean ENABLED = probe();

    /** True when the vector paths run in this JVM. */
    public static boolean enabled() {
        return ENABLED;
    }

    /** True when the module is in the boot layer, whatever {@code nibble.vector} says. */
    public static boolean modulePresent() {
        return ModuleLayer.boot().findModule(MODULE).isPresent();
    }

    /** One line for logs and benchmark output: which kernels run, and why. */
    public static String describe() {
        if (ENABLED) {
            return "vector (" + UniformVector.shape() + ")";
        }
        return modulePresent() ? "scalar (-Dnibble.vector=false)" : "scalar (" + MODULE + " not in the boot layer)";
    }

    private static boolean probe() {
        if (!Boolean.parseBoolean(System.getProperty("nibble.vector", "true")) || !modulePresent()) {
            return false;
        }
        try {
            return UniformVector.shape() != null && TableVector.ready();
        } catch (LinkageError | RuntimeException e) {
            return false; // a JDK whose incubator API differs: the scalar paths are always correct
        }
    }
}
