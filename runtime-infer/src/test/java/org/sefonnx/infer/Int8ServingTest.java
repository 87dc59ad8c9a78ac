package org.sefonnx.infer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.contract.AtomicFiles;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.contract.ExportManifest;
import org.sefonnx.contract.Int8Model;
import org.sefonnx.contract.OnnxModelScan;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.generator.artifacts.InferenceGraph;
import org.sefonnx.generator.quantize.ActivationHistogram;
import org.sefonnx.generator.quantize.BatchNormFolding;
import org.sefonnx.generator.quantize.CalibrationMethod;
import org.sefonnx.generator.quantize.Int8Arithmetic;
import org.sefonnx.generator.quantize.QdqPlan;
import org.sefonnx.generator.quantize.QdqRewrite;
import org.sefonnx.imaging.ImageDecoder;
import org.sefonnx.imaging.Preprocessor;

/**
 * An int8 export of the golden model, calibrated on the fixture pictures with the official ONNX Runtime, served by
 * SefClassifier and predict as any export: the folded float model against the plain-Java forward, the int8 logits
 * against a plain-Java int8 forward and within a stated bound of float32, the integer kernels in ORT's optimized graph,
 * and an "int8" model that ORT would run in float32 refused.
 */
class Int8ServingTest {
    /** float32 ORT vs double reference after BatchNorm folding: the bound of the unfolded model (ReferenceForwardTest). */
    static final double FOLDED_TOLERANCE = ReferenceForwardTest.REFERENCE_TOLERANCE;
    /**
     * The int8 model may leave float32 by at most this fraction of the largest |logit| on the fixture pictures it was
     * calibrated on (measured: 4.6 %, 0.0158 of 0.341, ORT 1.23.2 on AVX-512 VNNI).
     */
    static final double FLOAT32_BOUND = 0.10;
    /**
     * ORT's integer kernels against the plain-Java int8 forward, in single-step flips of the last feature map: a value
     * that lands within float rounding of a uint8 rounding boundary may go either way, and one flip moves a logit by
     * that map's scale times a classifier weight (measured: no flip, |diff| 1e-7).
     */
    static final int ALLOWED_FLIPS = 4;

    private static Map<String, float[]> ranges;
    private static float[] fixtures;
    private static Path int8Export;

    @BeforeAll
    static void calibrateOnTheFixturePictures(@TempDir Path dir) throws Exception {
        Preprocessor preprocessor = new Preprocessor(GoldenModel.PREPROCESSING);
        int per = preprocessor.floatsPerImage(), n = GoldenModel.IMAGES.size();
        fixtures = new float[n * per];
        try (ImageDecoder decoder = new ImageDecoder()) {
            for (int i = 0; i < n; i++) {
                preprocessor.apply(
                        decoder.decode(GoldenModel.image(GoldenModel.IMAGES.get(i))),
                        FloatBuffer.wrap(fixtures),
                        i * per);
            }
        }
        ModelProto folded = BatchNormFolding.fold(InferenceGraph.buildExplain(GoldenModel.SPEC, GoldenModel.tensors()))
                .model();
        List<String> tensors = QdqPlan.calibrationCandidates(folded);
        Map<String, float[]> values = run(QdqRewrite.withOutputs(folded, tensors), fixtures, tensors, null, false);
        ranges = new LinkedHashMap<>();
        for (String t : tensors) {
            ActivationHistogram h = new ActivationHistogram();
            h.add(values.get(t), 0, values.get(t).length);
            ranges.put(t, h.range(new CalibrationMethod.MinMax()));
        }
        int8Export = GoldenModel.writeInt8Export(
                Files.createDirectories(dir.resolve("int8")),
                GoldenModel.tensors(),
                GoldenModel.PREPROCESSING.toText(),
                ranges::get);
    }

    /** Runs {@code model} on {@code nchw} with the official API; {@code optimized}: where ORT writes its optimized graph. */
    static Map<String, float[]> run(
            ModelProto model, float[] nchw, List<String> outputs, Path optimized, boolean qdqAsFloat)
            throws OrtException {
        int size = GoldenModel.SPEC.imageSize(), n = nchw.length / (3 * size * size);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            if (optimized != null) {
                so.setOptimizedModelFilePath(optimized.toString());
                so.setSessionLogLevel(ai.onnxruntime.OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
            }
            // ORT's own reference for a QDQ graph: every Q/DQ pair computed as written, the ops in float32
            if (qdqAsFloat) so.addConfigEntry("session.disable_quant_qdq", "1");
            try (OrtSession session = env.createSession(model.toByteArray(), so);
                    OnnxTensor input =
                            OnnxTensor.createTensor(env, FloatBuffer.wrap(nchw), new long[] {n, 3, size, size});
                    OrtSession.Result r =
                            session.run(Map.of(TensorNames.IMAGES, input), new LinkedHashSet<>(outputs))) {
                Map<String, float[]> out = new LinkedHashMap<>();
                for (String name : outputs) {
                    FloatBuffer b = ((OnnxTensor) r.get(name).orElseThrow()).getFloatBuffer();
                    float[] v = new float[b.remaining()];
                    b.get(v);
                    out.put(name, v);
                }
                return out;
            }
        }
    }

    private static double[][] referenceLogits(java.util.function.Function<float[], double[]> forward) {
        int per = 3 * GoldenModel.SPEC.imageSize() * GoldenModel.SPEC.imageSize(), n = fixtures.length / per;
        double[][] logits = new double[n][];
        for (int i = 0; i < n; i++) {
            float[] image = new float[per];
            System.arraycopy(fixtures, i * per, image, 0, per);
            logits[i] = forward.apply(image);
        }
        return logits;
    }

    private static double maxDifference(double[][] expected, float[] actual) {
        double worst = 0;
        int k = expected[0].length;
        for (int i = 0; i < expected.length; i++)
            for (int c = 0; c < k; c++) worst = Math.max(worst, Math.abs(expected[i][c] - actual[i * k + c]));
        return worst;
    }

    private static double largest(double[][] logits) {
        double m = 0;
        for (double[] row : logits) for (double v : row) m = Math.max(m, Math.abs(v));
        return m;
    }

    @Test
    void foldedBatchNormModelMatchesThePlainJavaForwardOfTheUnfoldedWeights() throws OrtException {
        ModelProto folded = BatchNormFolding.fold(InferenceGraph.buildExplain(GoldenModel.SPEC, GoldenModel.tensors()))
                .model();
        assertTrue(folded.getGraph().getNodeList().stream()
                .noneMatch(n -> n.getOpType().equals("BatchNormalization")));
        ResNetReference reference = new ResNetReference(GoldenModel.tensors());
        int size = GoldenModel.SPEC.imageSize(), k = GoldenModel.SPEC.numClasses();
        double[][] expected = referenceLogits(image -> reference.logits(image, size, k));
        float[] logits =
                run(folded, fixtures, List.of(TensorNames.LOGITS), null, false).get(TensorNames.LOGITS);
        double worst = maxDifference(expected, logits);
        System.out.printf(
                Locale.ROOT,
                "folded model vs plain-Java forward: max |diff| %.3g (largest |logit| %.3g)%n",
                worst,
                largest(expected));
        assertTrue(largest(expected) > 0.05, "the reference logits are not trivially zero");
        assertTrue(worst <= FOLDED_TOLERANCE, "max |reference - folded| = " + worst);
    }

    @Test
    void int8LogitsMatchThePlainJavaInt8ForwardAndStayNearFloat32() throws IOException {
        int size = GoldenModel.SPEC.imageSize(), k = GoldenModel.SPEC.numClasses();
        Int8ResNetReference int8Reference = new Int8ResNetReference(GoldenModel.tensors(), tensor -> {
            float[] r = ranges.get(tensor);
            Int8Arithmetic.ActivationParams p = Int8Arithmetic.activation(r[0], r[1]);
            return new Int8ResNetReference.Grid(p.scale(), p.zeroPoint());
        });
        double[][] int8Expected = referenceLogits(image -> int8Reference.logits(image, size, k));
        double[][] fp32Expected =
                referenceLogits(image -> new ResNetReference(GoldenModel.tensors()).logits(image, size, k));
        try (SefClassifier classifier = SefClassifier.open(int8Export)) {
            assertEquals(Int8Model.INT8, classifier.precision());
            float[] logits = flatten(classifier.logitsOfPreprocessed(fixtures));
            double toReference = maxDifference(int8Expected, logits), toFloat = maxDifference(fp32Expected, logits);
            System.out.printf(
                    Locale.ROOT,
                    "int8 vs plain-Java int8 forward: max |diff| %.3g; int8 vs float32: %.3g (largest |logit| %.3g)%n",
                    toReference,
                    toFloat,
                    largest(fp32Expected));
            float[] last = ranges.get("layer4.1.relu2"),
                    fc = GoldenModel.tensors().get("fc.weight");
            double maxWeight = 0;
            for (float w : fc) maxWeight = Math.max(maxWeight, Math.abs(w));
            double flip = Int8Arithmetic.activation(last[0], last[1]).scale() * maxWeight;
            assertTrue(
                    toReference <= ALLOWED_FLIPS * flip,
                    "max |int8 reference - int8| = " + toReference + ", one flip " + flip);
            assertTrue(toFloat <= FLOAT32_BOUND * largest(fp32Expected), "max |float32 - int8| = " + toFloat);
            assertTrue(toFloat > 0, "the int8 model is not the float one");
        }
    }

    private static float[] flatten(float[][] rows) {
        float[] flat = new float[rows.length * rows[0].length];
        for (int i = 0; i < rows.length; i++) System.arraycopy(rows[i], 0, flat, i * rows[0].length, rows[0].length);
        return flat;
    }

    @Test
    void int8ExportRunsItsConvolutionsAsIntegerKernels(@TempDir Path dir) throws Exception {
        ModelProto model = ModelProto.parseFrom(Files.readAllBytes(int8Export.resolve(ExportLayout.MODEL)));
        Path optimized = dir.resolve("optimized.onnx");
        run(model, fixtures, List.of(TensorNames.LOGITS), optimized, false);
        Map<String, Integer> ops = OnnxModelScan.read(optimized).operators();
        System.out.println("int8 golden model, ORT's optimized graph: " + ops);
        Int8Model.Convolutions convs = Int8Model.Convolutions.of(ops);
        assertEquals(20, convs.integer(), ops.toString()); // conv1 + 16 block convolutions + 3 downsamples
        assertEquals(0, convs.floating(), ops.toString());
        assertEquals(8, ops.getOrDefault("com.microsoft:QLinearAdd", 0), ops.toString());
        assertFalse(ops.containsKey(":Relu"), "every ReLU is absorbed into a quantized output: " + ops);
        assertEquals(1, ops.getOrDefault(":QuantizeLinear", 0), "only the image is quantized in float: " + ops);
        assertEquals(null, Int8Model.checkKernels(OnnxModelScan.metadata(int8Export.resolve(ExportLayout.MODEL)), ops));
    }

    @Test
    void int8ExportPredictsAndExplainsThroughTheSameApiAsAnyExport() throws IOException {
        try (SefClassifier int8 = SefClassifier.open(int8Export);
                SefClassifier fp32 = SefClassifier.open(GoldenModel.sharedExport())) {
            assertEquals(Int8Model.FP32, fp32.precision());
            Path bird = GoldenModel.image("bird_on_branch.jpg");
            assertEquals(GoldenModel.SPEC.numClasses(), int8.predict(bird).size());
            Explanation e = int8.explain(bird);
            assertEquals(GoldenModel.SPEC.groups(), e.groups());
        }
        java.io.StringWriter out = new java.io.StringWriter(), err = new java.io.StringWriter();
        int code = org.sefonnx.infer.cli.PredictCommand.run(
                new String[] {
                    "--model",
                    int8Export.toString(),
                    "--top-k",
                    "1",
                    GoldenModel.image("finch_rgba.png").toString()
                },
                new java.io.PrintWriter(out),
                new java.io.PrintWriter(err));
        assertEquals(0, code, err.toString());
        assertTrue(out.toString().contains("(class "), out.toString());
    }

    @Test
    void int8ExportWhoseConvolutionsOrtRunsInFloatIsRefused(@TempDir Path dir) throws IOException {
        Path fp32 = GoldenModel.sharedExport();
        ModelProto model = ModelProto.parseFrom(Files.readAllBytes(fp32.resolve(ExportLayout.MODEL))).toBuilder()
                .addMetadataProps(StringStringEntryProto.newBuilder()
                        .setKey(Int8Model.PRECISION_METADATA)
                        .setValue(Int8Model.INT8))
                .addMetadataProps(StringStringEntryProto.newBuilder()
                        .setKey(Int8Model.INTEGER_CONVOLUTIONS_METADATA)
                        .setValue("20"))
                .build();
        AtomicFiles.write(dir.resolve(ExportLayout.MODEL), model.toByteArray());
        for (String f : List.of(ExportLayout.LABELS, ExportLayout.PREPROCESSING))
            Files.copy(fp32.resolve(f), dir.resolve(f));
        ExportManifest.write(dir, ExportLayout.REQUIRED_FILES);
        InvalidExportException e = assertThrows(InvalidExportException.class, () -> SefClassifier.open(dir));
        assertTrue(
                e.getMessage().contains("promises 20 int8 convolutions")
                        && e.getMessage().contains("runs 0 as integer kernels"),
                e.getMessage());
        IllegalArgumentException cuda = assertThrows(
                IllegalArgumentException.class,
                () -> SefClassifier.open(
                        int8Export, SefClassifier.Options.defaults().withDevice(SefClassifier.Device.CUDA)));
        assertTrue(cuda.getMessage().contains("CPU provider"), cuda.getMessage());
    }
}
