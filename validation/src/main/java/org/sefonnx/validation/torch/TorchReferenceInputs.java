package org.sefonnx.validation.torch;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.generator.artifacts.InitialWeights;
import org.sefonnx.generator.model.CheckpointTensor;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.generator.model.SefModel;
import org.sefonnx.generator.weights.SafeTensors;

/**
 * Writes the inputs of the PyTorch reference ({@code validation/torch-reference/sef_reference.py}): every weight and
 * BatchNorm running statistic of a small SEF ResNet-18 under our (torchvision's) names, one batch of images and
 * labels, and the hyper-parameters as metadata. Everything is drawn from fixed seeds, so {@code TorchReferenceTest}
 * regenerates the same bytes and can tell whether a golden file was computed from them.
 *
 * <p>Usage: {@code TorchReferenceInputs OUTPUT.safetensors}
 */
public final class TorchReferenceInputs {
    /** ResNet-18, K=5, G=2, 64 px; the paper's loss weights, lr 0.01, momentum 0.9, batch 4. */
    public static final ModelSpec SPEC =
            ModelSpec.of("torch-ref-r18", 18, 5, 2, 64).withRecipe(0.01, 20, 50, 4);

    /** Seed of the initial weights and of the batch. */
    public static final long SEED = 1234;
    /** Images in the batch. */
    public static final int BATCH = 4;
    /** Momentum-SGD steps the reference takes on the same batch. */
    public static final int STEPS = 3;

    /** The batch's class labels. */
    public static final long[] LABELS = {1, 4, 0, 3};

    public static final String IMAGES = TensorNames.IMAGES;
    public static final String LABELS_NAME = TensorNames.LABELS;
    /** Where the golden file lives among the validation test resources. */
    public static final String GOLDEN_RESOURCE = "/torch-golden/resnet18-k5-g2-64px.safetensors";

    private TorchReferenceInputs() {}

    /** PyTorch-default initial values of every model tensor (parameters, then running statistics), by name. */
    public static Map<String, float[]> weights() {
        Map<String, float[]> w = new LinkedHashMap<>();
        for (CheckpointTensor t : SefModel.modelTensors(SPEC)) w.put(t.name(), InitialWeights.values(t, SEED));
        return w;
    }

    /** [B, 3, S, S] standard-normal pixels (roughly what ImageNet normalisation gives). */
    public static float[] images() {
        Random r = new Random(SEED);
        float[] x = new float[BATCH * 3 * SPEC.imageSize() * SPEC.imageSize()];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    public static long[] imageShape() {
        return new long[] {BATCH, 3, SPEC.imageSize(), SPEC.imageSize()};
    }

    public static List<SafeTensors.Tensor> tensors() {
        List<SafeTensors.Tensor> r = new ArrayList<>();
        Map<String, float[]> w = weights();
        for (CheckpointTensor t : SefModel.modelTensors(SPEC))
            r.add(SafeTensors.Tensor.f32(t.name(), w.get(t.name()), t.shape()));
        r.add(SafeTensors.Tensor.f32(IMAGES, images(), imageShape()));
        r.add(SafeTensors.Tensor.i64(LABELS_NAME, LABELS.clone(), BATCH));
        return r;
    }

    /** Everything the script needs besides tensors, as text. */
    public static Map<String, String> metadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("depth", Integer.toString(SPEC.depth()));
        m.put("num_classes", Integer.toString(SPEC.numClasses()));
        m.put("groups", Integer.toString(SPEC.groups()));
        m.put(
                "group_channels",
                IntStream.of(SPEC.groupChannels()).mapToObj(Integer::toString).collect(Collectors.joining(",")));
        m.put("image_size", Integer.toString(SPEC.imageSize()));
        m.put("batch", Integer.toString(BATCH));
        m.put("lambda", num(SPEC.lambda()));
        m.put("gamma", num(SPEC.gamma()));
        m.put("phi", num(SPEC.phi()));
        m.put("grouping_loss", SPEC.groupingLoss().name().toLowerCase(Locale.ROOT));
        m.put("grouping_epsilon", num(ModelSpec.GROUPING_EPSILON));
        m.put("bn_epsilon", num(ModelSpec.BN_EPSILON));
        m.put("bn_momentum", num(ModelSpec.BN_MOMENTUM));
        m.put("lr", num(SPEC.learningRate()));
        m.put("momentum", num(SPEC.momentum()));
        m.put("weight_decay", num(SPEC.weightDecay()));
        m.put("steps", Integer.toString(STEPS));
        m.put("seed", Long.toString(SEED));
        m.put("spec", SPEC.toProperties());
        return m;
    }

    private static String num(double d) {
        return Double.toString(d);
    }

    /** The file's exact bytes (the writer is deterministic; the golden records their SHA-256). */
    public static byte[] toBytes() {
        return SafeTensors.toBytes(tensors(), metadata());
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: TorchReferenceInputs OUTPUT.safetensors");
            System.exit(2);
        }
        Path out = Path.of(args[0]);
        byte[] bytes = toBytes();
        org.sefonnx.contract.AtomicFiles.write(out, bytes);
        System.out.printf(
                Locale.ROOT,
                "%s: %d tensors, %.1f MB, ResNet-%d K=%d G=%d %d px, batch %d, seed %d%n",
                out,
                tensors().size(),
                bytes.length / 1e6,
                SPEC.depth(),
                SPEC.numClasses(),
                SPEC.groups(),
                SPEC.imageSize(),
                BATCH,
                SEED);
    }
}
