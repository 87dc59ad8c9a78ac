package org.sefonnx.bench.infer;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import java.nio.FloatBuffer;
import org.sefonnx.bench.common.DjlResNet18;
import org.sefonnx.bench.common.DjlResNet50;

/**
 * DJL 0.36 + PyTorch 2.7.1 (CPU) inference of a torchvision-layout ResNet-18 or -50 ({@link DjlResNet18},
 * {@link DjlResNet50}, random weights), in
 * eval mode (BatchNorm on running statistics: {@code forward(.., training=false)}) and without gradients (parameters
 * frozen, and PyTorch's grad mode off on the calling thread, as {@code torch.no_grad()}). A call mirrors the bare ORT
 * call: input waiting in a direct buffer, an NDArray made from it, forward, read the logits back.
 *
 * <p>Thread counts: {@code ai.djl.pytorch.num_threads} / {@code num_interop_threads} are set before the engine starts
 * (inter-op 1), then {@code torch::set_num_threads(threads)} through {@link JniUtils#setNumThreads}.
 */
final class DjlInference implements AutoCloseable {
    private final Model model;
    private final Block block;
    private final ParameterStore parameters;
    private final int threads;

    private DjlInference(Model model, int threads) {
        this.model = model;
        this.block = model.getBlock();
        this.parameters = new ParameterStore(model.getNDManager(), false);
        this.threads = threads;
    }

    /** Sets DJL's start-up properties (offline, threads) unless given on the command line; before any DJL class runs. */
    static void configure(int threads) {
        System.setProperty("ai.djl.offline", System.getProperty("ai.djl.offline", "true"));
        System.setProperty(
                "ai.djl.pytorch.num_threads",
                System.getProperty("ai.djl.pytorch.num_threads", Integer.toString(threads)));
        System.setProperty(
                "ai.djl.pytorch.num_interop_threads", System.getProperty("ai.djl.pytorch.num_interop_threads", "1"));
        System.setProperty(
                "org.slf4j.simpleLogger.defaultLogLevel",
                System.getProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn"));
        System.setProperty(
                "org.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils",
                System.getProperty("org.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils", "error"));
    }

    /** ResNet-18, as {@link #open(int, int, int, int, int)} with depth 18. */
    static DjlInference open(int threads, int classes, int height, int width) {
        return open(threads, classes, height, width, 18);
    }

    /** torchvision's ResNet-{@code depth} (18 or 50) for {@code classes} classes and {@code height x width} inputs. */
    static DjlInference open(int threads, int classes, int height, int width, int depth) {
        Engine engine = Engine.getEngine("PyTorch");
        Model model = Model.newInstance("resnet" + depth + "-tv", Device.cpu(), "PyTorch");
        model.setBlock(
                switch (depth) {
                    case 18 -> DjlResNet18.torchvisionResNet18(classes);
                    case 50 -> DjlResNet50.torchvisionResNet50(classes);
                    default ->
                        throw new IllegalArgumentException("the DJL side builds ResNet-18 and ResNet-50, not " + depth);
                });
        model.getBlock().initialize(model.getNDManager(), DataType.FLOAT32, new Shape(1, 3, height, width));
        model.getBlock().freezeParameters(true);
        DjlInference d = new DjlInference(model, threads);
        d.enterThread();
        System.out.printf(
                "DJL %s, engine %s %s, intra-op threads %d, inter-op threads %d, ai.djl.offline=%s%n",
                Engine.getDjlVersion(),
                engine.getEngineName(),
                engine.getVersion(),
                JniUtils.getNumThreads(),
                JniUtils.getNumInteropThreads(),
                System.getProperty("ai.djl.offline"));
        return d;
    }

    /** The parameter count of the block (a check that it is the architecture it claims: torchvision's counts). */
    long parameters() {
        long n = 0;
        for (var p : block.getParameters().values())
            n += p.getArray().getShape().size();
        return n;
    }

    /** PyTorch's grad mode and OpenMP thread count are per thread: call on the thread that runs {@link #run}. */
    void enterThread() {
        JniUtils.setNumThreads(threads);
        JniUtils.setGradMode(false);
        if (JniUtils.getNumThreads() != threads)
            throw new IllegalStateException("PyTorch kept " + JniUtils.getNumThreads() + " threads");
    }

    /** One forward of {@code input} (shape {@code shape}); returns the number of logits read back. */
    int run(FloatBuffer input, long[] shape) {
        try (NDManager m = model.getNDManager().newSubManager()) {
            NDArray x = m.create(input.duplicate(), new Shape(shape));
            NDArray logits = block.forward(parameters, new NDList(x), false).singletonOrThrow();
            return logits.toFloatArray().length;
        }
    }

    /** For the log: output shape, and whether the output would carry a gradient (must be false). */
    String check(FloatBuffer input, long[] shape) {
        try (NDManager m = model.getNDManager().newSubManager()) {
            NDArray x = m.create(input.duplicate(), new Shape(shape));
            NDArray logits = block.forward(parameters, new NDList(x), false).singletonOrThrow();
            return "output " + logits.getShape() + ", grad mode " + JniUtils.isGradMode() + ", output requires grad "
                    + logits.hasGradient();
        }
    }

    @Override
    public void close() {
        model.close();
    }
}
