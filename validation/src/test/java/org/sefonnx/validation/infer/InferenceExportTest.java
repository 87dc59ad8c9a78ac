package org.sefonnx.validation.infer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.sefonnx.contract.ArtifactLayout;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.Checkpoint;
import org.sefonnx.generator.artifacts.CheckpointWriter;
import org.sefonnx.generator.artifacts.InferenceGraph;
import org.sefonnx.generator.artifacts.TrainingTarget;
import org.sefonnx.generator.model.CheckpointTensor;
import org.sefonnx.generator.model.SefModel;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;

/**
 * The exported inference model against ORT's own training session: EvalStep on the golden checkpoint reproduces the
 * committed golden logits (which runtime-infer's tests reproduce with the official ORT), ORT's
 * ExportModelForInferencing and the generator's {@link InferenceGraph} give EvalStep's outputs in a plain session,
 * before and after a few training steps: the export's model.onnx ({@link ExportLayout#MODEL_OUTPUTS}: the backbone,
 * the global head and the group heads) and the prediction-only model of older exports (the backbone and global head
 * only).
 *
 * <p>The golden file is runtime-infer's (its test resources, on this module's classpath through its test-jar). Run
 * with {@code -Dsef.regenerateGoldens=true} to write a new one from EvalStep into this module's
 * {@code target/regenerated-goldens/}, to be reviewed and copied over runtime-infer's.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class InferenceExportTest {
    /** EvalStep vs the committed golden logits (float text round-trips exactly; the slack covers other CPUs' kernels). */
    static final double GOLDEN_TOLERANCE = 1e-5;
    /**
     * A plain session on the exported graph vs EvalStep, measured 5.2e-7 on logits of order 0.3: the same graph and
     * values, but a training session disables weight prepacking, so MLAS sums in another order.
     */
    static final double EXPORT_TOLERANCE = 2e-6;
    /** torchvision resnet18 without its fc: 11,689,512 parameters - (512 * 1000 + 1000). */
    static final long RESNET18_BACKBONE_PARAMETERS = 11_176_512L;

    static final int TRAINING_STEPS = 3;
    /** Small enough that 3 momentum steps on 4 pictures leave the logits of order 1 (0.05 sends them to 1e10). */
    static final float LEARNING_RATE = 0.001f;

    /** What the exporter keeps for model.onnx. */
    static final List<String> OUTPUTS = ExportLayout.MODEL_OUTPUTS;
    /** What older exports' model.onnx held (InferenceGraph.build). */
    static final List<String> PREDICTION_OUTPUTS = ExportLayout.PREDICTION_OUTPUTS;
    /** The model.onnx outputs EvalStep also returns and that are compared with it (probabilities follow the logits). */
    static final List<String> COMPARED = List.of(TensorNames.LOGITS, TensorNames.FEATURE_MAP, TensorNames.GROUP_LOGITS);
    /** Linear(256, K) for each of the spec's two groups. */
    static final long GROUP_HEAD_PARAMETERS =
            2L * (256 * GoldenModel.SPEC.numClasses() + GoldenModel.SPEC.numClasses());

    static final OrtAdapter ADAPTER = OrtAdapter.create("sef-onnx-validation-infer");
    static Path dir;
    static OrtAdapter.Training training;
    static Map<String, float[]> goldenTensors;
    static float[] images;

    @BeforeAll
    static void openGoldenCheckpoint() throws IOException {
        dir = Files.createTempDirectory("sef-infer-export");
        ArtifactWriter.generate(GoldenModel.SPEC, dir, null);
        goldenTensors = GoldenModel.tensors();
        Checkpoint initial = ArtifactWriter.initialCheckpoint(GoldenModel.SPEC, GoldenModel.INIT_SEED);
        List<Checkpoint.Tensor> trainable = new ArrayList<>(), frozen = new ArrayList<>();
        for (Checkpoint.Tensor t : initial.trainable())
            trainable.add(new Checkpoint.Tensor(t.name(), t.dims(), goldenTensors.get(t.name())));
        for (Checkpoint.Tensor t : initial.frozen()) {
            float[] golden = goldenTensors.get(t.name());
            frozen.add(new Checkpoint.Tensor(
                    t.name(), t.dims(), golden != null ? golden : t.data())); // momentum buffers stay 0
        }
        Path checkpoint = dir.resolve(ArtifactLayout.CHECKPOINT);
        CheckpointWriter.write(
                new Checkpoint(
                        trainable,
                        frozen,
                        initial.intProperties(),
                        initial.floatProperties(),
                        initial.stringProperties()),
                checkpoint);
        training = ADAPTER.openTraining(
                checkpoint,
                dir.resolve(TrainingTarget.CUDA.modelFile()),
                dir.resolve(ArtifactLayout.EVAL_MODEL),
                dir.resolve(ArtifactLayout.OPTIMIZER_MODEL),
                OrtAdapter.SessionConfig.cpu(1));
        images = GoldenModel.preprocessedImages();
    }

    @AfterAll
    static void close() throws IOException {
        if (training != null) training.close();
        try (var files = Files.walk(dir)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    @Test
    @Order(1)
    void evalStepReproducesTheGoldenLogits() throws IOException {
        float[][] logits = evalStepOutput(TensorNames.LOGITS);
        String sha = GoldenModel.sha256(goldenTensors);
        Properties golden;
        if (Boolean.getBoolean("sef.regenerateGoldens")) {
            // into this module's target/ only: the committed file is runtime-infer's, replaced by a reviewed copy
            Path regenerated = GoldenModel.regeneratedGolden();
            writeGolden(regenerated, sha, logits);
            System.out.println("golden file regenerated: " + regenerated
                    + "; review it, then copy it to runtime-infer/src/test/resources/" + GoldenModel.GOLDEN_FILE);
            golden = new Properties();
            try (Reader in = Files.newBufferedReader(regenerated, StandardCharsets.UTF_8)) {
                golden.load(in);
            }
        } else {
            golden = GoldenModel.committedGolden();
        }
        assertEquals(
                golden.getProperty("tensorsSha256"),
                sha,
                "GoldenModel here and in runtime-infer must build the same tensors");
        double worst = 0;
        for (int i = 0; i < GoldenModel.IMAGES.size(); i++) {
            String[] expected =
                    golden.getProperty("logits." + GoldenModel.IMAGES.get(i)).split(",");
            assertEquals(GoldenModel.SPEC.numClasses(), expected.length);
            for (int k = 0; k < expected.length; k++)
                worst = Math.max(worst, Math.abs(Float.parseFloat(expected[k]) - logits[i][k]));
        }
        System.out.printf(Locale.ROOT, "EvalStep vs golden logits: max |diff| = %.3g%n", worst);
        assertTrue(worst <= GOLDEN_TOLERANCE, "EvalStep differs from the golden logits by " + worst);
    }

    @Test
    @Order(2)
    void exportedModelAndInferenceGraphGiveEvalStepsLogits() throws IOException {
        float[][] eval = evalStepOutput(TensorNames.LOGITS);
        Path exported = dir.resolve("exported_golden_prediction.onnx");
        training.exportForInference(exported, PREDICTION_OUTPUTS);
        Path generated = dir.resolve("inference_graph_golden.onnx");
        InferenceGraph.write(GoldenModel.SPEC, goldenTensors, generated);
        double exportedDiff = maxDiff(eval, plainSessionOutput(exported, PREDICTION_OUTPUTS, TensorNames.LOGITS));
        double generatedDiff = maxDiff(eval, plainSessionOutput(generated, PREDICTION_OUTPUTS, TensorNames.LOGITS));
        System.out.printf(
                Locale.ROOT,
                "golden checkpoint: exported vs EvalStep %.3g, InferenceGraph vs EvalStep %.3g%n",
                exportedDiff,
                generatedDiff);
        assertTrue(exportedDiff <= EXPORT_TOLERANCE, "exported model vs EvalStep: " + exportedDiff);
        assertTrue(generatedDiff <= EXPORT_TOLERANCE, "InferenceGraph vs EvalStep: " + generatedDiff);

        ModelProto ortExport = ModelProto.parseFrom(Files.readAllBytes(exported));
        ModelProto ours = ModelProto.parseFrom(Files.readAllBytes(generated));
        assertBackboneAndGlobalHeadOnly(ortExport, "ORT export");
        assertBackboneAndGlobalHeadOnly(ours, "InferenceGraph");
        assertEquals(parameterNames(ortExport), parameterNames(ours));
        assertEquals(opTypeCounts(ortExport), opTypeCounts(ours));
    }

    @Test
    @Order(2)
    void theExportersModelAndTheExplainGraphGiveEvalStepsLogitsFeatureMapAndGroupLogits() throws IOException {
        List<Path> models = assertExportsMatchEvalStep(goldenTensors, "golden");
        ModelProto ortExport = ModelProto.parseFrom(Files.readAllBytes(models.get(0)));
        ModelProto ours = ModelProto.parseFrom(Files.readAllBytes(models.get(1)));
        for (ModelProto model : List.of(ortExport, ours)) {
            assertEquals(
                    OUTPUTS,
                    model.getGraph().getOutputList().stream()
                            .map(v -> v.getName())
                            .toList());
            int c = GoldenModel.SPEC.featureChannels(), k = GoldenModel.SPEC.numClasses();
            assertEquals(
                    RESNET18_BACKBONE_PARAMETERS + (long) c * k + k + GROUP_HEAD_PARAMETERS, parameterCount(model));
            for (NodeProto n : model.getGraph().getNodeList()) {
                assertFalse(
                        n.getOpType().endsWith("Grad") || n.getOpType().equals("SoftmaxCrossEntropyLoss"),
                        "training-only node " + n.getOpType());
            }
        }
        assertEquals(parameterNames(ortExport), parameterNames(ours));
        assertEquals(opTypeCounts(ortExport), opTypeCounts(ours));
    }

    @Test
    @Order(3)
    void afterTrainingStepsTheExportAndInferenceGraphStillMatchEvalStep() throws IOException {
        training.setLearningRate(LEARNING_RATE);
        HostTensor x = HostTensor.floats(
                images, GoldenModel.IMAGES.size(), 3, GoldenModel.SPEC.imageSize(), GoldenModel.SPEC.imageSize());
        HostTensor y = HostTensor.longs(new long[] {0, 1, 2, 3}, GoldenModel.IMAGES.size());
        for (int step = 0; step < TRAINING_STEPS; step++) {
            training.trainStep(List.of(x, y));
            training.optimizerStep();
        }
        Map<String, float[]> trained = new LinkedHashMap<>();
        for (CheckpointTensor t : SefModel.modelTensors(GoldenModel.SPEC))
            trained.put(t.name(), training.tensor(t.name()).toFloats());
        assertFalse(
                java.util.Arrays.equals(goldenTensors.get("bn1.running_mean"), trained.get("bn1.running_mean")),
                "running statistics moved");
        assertFalse(java.util.Arrays.equals(goldenTensors.get("fc.weight"), trained.get("fc.weight")), "weights moved");

        float[][] eval = evalStepOutput(TensorNames.LOGITS);
        System.out.printf(
                Locale.ROOT,
                "after %d steps the logits moved by %.3g%n",
                TRAINING_STEPS,
                maxDiff(
                        eval,
                        plainSessionOutput(
                                dir.resolve("inference_graph_golden.onnx"), PREDICTION_OUTPUTS, TensorNames.LOGITS)));
        assertExportsMatchEvalStep(trained, "trained");
    }

    /**
     * Exports the session's weights as the exporter does and builds the generator's explain graph of {@code tensors}
     * (the same weights), then compares their outputs {@link #COMPARED} with EvalStep's: the logits within
     * {@link #EXPORT_TOLERANCE}, as always; the explain outputs, whose values reach beyond 1 (a post-ReLU map), within
     * it times their largest magnitude. Returns the two model files, ORT's first.
     */
    private static List<Path> assertExportsMatchEvalStep(Map<String, float[]> tensors, String when) throws IOException {
        Path exported = dir.resolve("exported_" + when + ".onnx");
        training.exportForInference(exported, OUTPUTS);
        Path generated = dir.resolve("inference_graph_explain_" + when + ".onnx");
        Files.write(
                generated,
                InferenceGraph.buildExplain(GoldenModel.SPEC, tensors).toByteArray());
        for (String name : COMPARED) {
            float[][] eval = evalStepOutput(name);
            double tolerance =
                    name.equals(TensorNames.LOGITS) ? EXPORT_TOLERANCE : EXPORT_TOLERANCE * Math.max(1, maxAbs(eval));
            double exportedDiff = maxDiff(eval, plainSessionOutput(exported, OUTPUTS, name));
            double generatedDiff = maxDiff(eval, plainSessionOutput(generated, OUTPUTS, name));
            System.out.printf(
                    Locale.ROOT,
                    "%s, %s: exported vs EvalStep %.3g, InferenceGraph vs EvalStep %.3g (tolerance %.3g)%n",
                    when,
                    name,
                    exportedDiff,
                    generatedDiff,
                    tolerance);
            assertTrue(exportedDiff <= tolerance, name + ": exported model vs EvalStep: " + exportedDiff);
            assertTrue(generatedDiff <= tolerance, name + ": InferenceGraph vs EvalStep: " + generatedDiff);
        }
        return List.of(exported, generated);
    }

    // ---- helpers --------------------------------------------------------------------------------------------------

    private static float[][] evalStepOutput(String output) {
        int n = GoldenModel.IMAGES.size(), size = GoldenModel.SPEC.imageSize();
        List<HostTensor> inputs = new ArrayList<>();
        for (String name : training.evalInputNames()) {
            if (name.equals(TensorNames.IMAGES)) inputs.add(HostTensor.floats(images, n, 3, size, size));
            else if (name.equals(TensorNames.LABELS)) inputs.add(HostTensor.longs(new long[] {0, 1, 2, 3}, n));
            else throw new IllegalStateException("unexpected eval input " + name);
        }
        List<HostTensor> outputs = training.evalStep(inputs);
        return rows(outputs.get(training.evalOutputNames().indexOf(output)).toFloats(), n);
    }

    /** Output {@code name} of {@code model} (whose outputs are {@code outputs}) in a plain session, per image. */
    private static float[][] plainSessionOutput(Path model, List<String> outputs, String name) {
        int n = GoldenModel.IMAGES.size(), size = GoldenModel.SPEC.imageSize();
        try (OrtAdapter.Inference session = ADAPTER.openInference(model, OrtAdapter.SessionConfig.cpu(1))) {
            List<HostTensor> out = session.run(
                    List.of(TensorNames.IMAGES), List.of(HostTensor.floats(images, n, 3, size, size)), outputs);
            return rows(out.get(outputs.indexOf(name)).toFloats(), n);
        }
    }

    private static double maxAbs(float[][] a) {
        double m = 0;
        for (float[] row : a) for (float v : row) m = Math.max(m, Math.abs(v));
        return m;
    }

    private static float[][] rows(float[] flat, int n) {
        int k = flat.length / n;
        float[][] r = new float[n][k];
        for (int i = 0; i < n; i++) System.arraycopy(flat, i * k, r[i], 0, k);
        return r;
    }

    private static double maxDiff(float[][] a, float[][] b) {
        double worst = 0;
        for (int i = 0; i < a.length; i++)
            for (int k = 0; k < a[i].length; k++) worst = Math.max(worst, Math.abs(a[i][k] - b[i][k]));
        return worst;
    }

    /** No group heads, loss, label input or training op survives, and the parameters are resnet18's plus Linear(512, K). */
    static void assertBackboneAndGlobalHeadOnly(ModelProto model, String what) {
        // the loss terms' ops: the backbone and the global head (Conv, BatchNormalization, Relu, MaxPool, Add,
        // GlobalAveragePool, Flatten, Gemm, LogSoftmax, Exp, Identity) use none of them
        Set<String> trainingOps = Set.of(
                "SoftmaxCrossEntropyLoss",
                "InPlaceAccumulatorV2",
                "SGDOptimizerV2",
                "AdamWOptimizer",
                "ReduceMean",
                "ReduceSum",
                "Slice",
                "Sum",
                "MatMul",
                "Mul",
                "Div");
        for (NodeProto n : model.getGraph().getNodeList()) {
            assertFalse(
                    trainingOps.contains(n.getOpType()) || n.getOpType().endsWith("Grad"),
                    what + ": training-only node " + n.getOpType() + " " + n.getName());
            assertEquals("", n.getDomain(), what + ": " + n.getOpType() + " is from domain " + n.getDomain());
            for (String in : n.getInputList())
                assertFalse(in.startsWith("group"), what + ": " + n.getName() + " reads " + in);
        }
        assertEquals(
                List.of(TensorNames.IMAGES),
                model.getGraph().getInputList().stream().map(v -> v.getName()).toList(),
                what + " inputs");
        assertEquals(
                PREDICTION_OUTPUTS,
                model.getGraph().getOutputList().stream().map(v -> v.getName()).toList(),
                what + " outputs");
        int c = GoldenModel.SPEC.featureChannels(), k = GoldenModel.SPEC.numClasses();
        assertEquals(RESNET18_BACKBONE_PARAMETERS + (long) c * k + k, parameterCount(model), what + " parameter count");
    }

    /** Elements of the initializers that are checkpoint parameters (BatchNorm running statistics and constants excluded). */
    static long parameterCount(ModelProto model) {
        Set<String> parameters = new java.util.HashSet<>();
        for (CheckpointTensor t : SefModel.modelTensors(GoldenModel.SPEC)) if (t.trainable()) parameters.add(t.name());
        long count = 0;
        for (TensorProto t : model.getGraph().getInitializerList()) {
            if (!parameters.contains(t.getName())) continue;
            long n = 1;
            for (long d : t.getDimsList()) n *= d;
            count += n;
        }
        return count;
    }

    static Set<String> parameterNames(ModelProto model) {
        Set<String> names = new java.util.TreeSet<>();
        for (TensorProto t : model.getGraph().getInitializerList())
            if (!t.getName().startsWith("const_") && t.getDimsCount() > 0) names.add(t.getName());
        names.removeIf(n -> !n.contains("."));
        return names;
    }

    static Map<String, Integer> opTypeCounts(ModelProto model) {
        Map<String, Integer> counts = new java.util.TreeMap<>();
        for (NodeProto n : model.getGraph().getNodeList()) counts.merge(n.getOpType(), 1, Integer::sum);
        return counts;
    }

    private static void writeGolden(Path file, String sha, float[][] logits) throws IOException {
        StringBuilder text = new StringBuilder();
        text.append("# Golden logits of the SEF inference model ")
                .append(GoldenModel.SPEC.id())
                .append(", written by\n")
                .append(
                        "# validation/src/test/java/org/sefonnx/validation/infer/InferenceExportTest with -Dsef.regenerateGoldens=true.\n")
                .append(
                        "# runtime-infer's SefClassifier must reproduce them within 1e-5 from a model it rebuilds with the generator.\n");
        Map<String, String> keys = new LinkedHashMap<>();
        keys.put("spec", GoldenModel.SPEC.toProperties().strip().replace('\n', ';'));
        keys.put("initSeed", Long.toString(GoldenModel.INIT_SEED));
        keys.put(
                "tensors",
                "ArtifactWriter.initialCheckpoint(spec, initSeed) without momentum buffers; every BatchNorm (k-th, k from 1"
                        + " in graph order, channel c): weight = 1 + 0.25 sin(0.37c + k), bias = 0.1 cos(0.23c + 2k),"
                        + " running_mean = 0.2 sin(0.71c + 3k), running_var = 1.5 + cos(0.29c + 5k) (StrictMath, then float)");
        keys.put("tensorsSha256", sha);
        keys.put(
                "trainingSteps",
                "none: the golden model is this checkpoint as is (the validation test trains " + TRAINING_STEPS
                        + " steps afterwards and checks export vs EvalStep there, without a golden)");
        keys.put("preprocessing", GoldenModel.PREPROCESSING.toString());
        keys.put(
                "producer",
                "EvalStep of an ONNX Runtime " + OrtAdapter.version()
                        + " training session (org.bytedeco:onnxruntime), CPU, 1 thread");
        keys.put("labels", String.join(",", GoldenModel.LABELS));
        keys.put("images", String.join(",", GoldenModel.IMAGES));
        for (int i = 0; i < logits.length; i++) {
            StringBuilder row = new StringBuilder();
            for (int k = 0; k < logits[i].length; k++)
                row.append(k == 0 ? "" : ",").append(logits[i][k]);
            keys.put("logits." + GoldenModel.IMAGES.get(i), row.toString());
        }
        for (Map.Entry<String, String> e : keys.entrySet())
            text.append(e.getKey()).append('=').append(e.getValue()).append('\n');
        Files.createDirectories(file.getParent());
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }
}
