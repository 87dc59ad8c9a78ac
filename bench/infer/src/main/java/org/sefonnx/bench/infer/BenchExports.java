package org.sefonnx.bench.infer;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.contract.ExportManifest;
import org.sefonnx.contract.Int8Model;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.InferenceGraph;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.generator.quantize.ActivationHistogram;
import org.sefonnx.generator.quantize.BatchNormFolding;
import org.sefonnx.generator.quantize.CalibrationMethod;
import org.sefonnx.generator.quantize.Int8Arithmetic;
import org.sefonnx.generator.quantize.QdqPlan;
import org.sefonnx.generator.quantize.QdqRewrite;
import org.sefonnx.imaging.PreprocessingSpec;

/**
 * The exports the inference benchmarks run: a ResNet with the generator's initial weights (speed does not depend on the
 * values), as the trainer exports it (model.onnx with the explain outputs and the group split, labels, preprocessing,
 * manifest), and its int8 twin made as `sef-onnx export --precision int8` makes one (BatchNorm folded, the QDQ model of
 * the generator's quantize package), calibrated here on random images with the official ONNX Runtime.
 */
final class BenchExports {
    private BenchExports() {}

    /** A float32 export of a ResNet-{@code depth} SEF model at {@code size} px with {@code classes} classes. */
    static Path float32(int depth, int size, int classes) throws IOException {
        ModelSpec spec = spec(depth, size, classes);
        Path dir = Files.createTempDirectory("sef-bench-export");
        ModelProto model =
                InferenceGraph.buildExplain(spec, InferenceGraph.tensors(ArtifactWriter.initialCheckpoint(spec, 1)))
                        .toBuilder()
                        .addMetadataProps(StringStringEntryProto.newBuilder()
                                .setKey(ExportLayout.GROUP_SPLIT_METADATA)
                                .setValue(spec.groupSplit().toText()))
                        .build();
        Files.write(dir.resolve(ExportLayout.MODEL), model.toByteArray());
        writeTheRest(dir, spec, classes, List.of());
        return dir;
    }

    /**
     * The int8 twin of the float32 export {@code fp32}, its ranges calibrated ({@code method}) on {@code images} random
     * normal images run one at a time through the folded model.
     */
    static Path int8(Path fp32, int images, CalibrationMethod method) throws IOException, OrtException {
        ModelProto model = ModelProto.parseFrom(Files.readAllBytes(fp32.resolve(ExportLayout.MODEL)));
        ModelProto folded = BatchNormFolding.fold(model).model();
        QdqPlan plan = QdqPlan.of(folded, Set.of());
        List<String> tensors = plan.calibratedTensors();
        PreprocessingSpec pre = PreprocessingSpec.read(fp32.resolve(ExportLayout.PREPROCESSING));
        Map<String, ActivationHistogram> histograms = new LinkedHashMap<>();
        for (String t : tensors) histograms.put(t, new ActivationHistogram());
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        SplittableRandom random = new SplittableRandom(7);
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
                OrtSession session = env.createSession(
                        QdqRewrite.withOutputs(folded, tensors).toByteArray(), so)) {
            for (int i = 0; i < images; i++) {
                float[] image = new float[pre.floatsPerImage()];
                for (int j = 0; j < image.length; j++) image[j] = (float) random.nextGaussian();
                try (OnnxTensor input = OnnxTensor.createTensor(
                                env, FloatBuffer.wrap(image), new long[] {1, 3, pre.cropHeight(), pre.cropWidth()});
                        OrtSession.Result r =
                                session.run(Map.of(TensorNames.IMAGES, input), new LinkedHashSet<>(tensors))) {
                    for (String t : tensors) {
                        FloatBuffer b = ((OnnxTensor) r.get(t).orElseThrow()).getFloatBuffer();
                        float[] v = new float[b.remaining()];
                        b.get(v);
                        histograms.get(t).add(v, 0, v.length);
                    }
                }
            }
        }
        Map<String, Int8Arithmetic.ActivationParams> params = new LinkedHashMap<>();
        for (String t : tensors) {
            float[] range = histograms.get(t).range(method);
            params.put(t, Int8Arithmetic.activation(range[0], range[1]));
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put(Int8Model.PRECISION_METADATA, Int8Model.INT8);
        metadata.put(Int8Model.INTEGER_CONVOLUTIONS_METADATA, Integer.toString(plan.integerConvolutions()));
        metadata.put(Int8Model.FLOAT_LAYERS_METADATA, String.join(",", plan.floatWeightedLayers()));
        metadata.put(Int8Model.CALIBRATION_METADATA, method + " over " + images + " random images (benchmark)");
        Path dir = Files.createTempDirectory("sef-bench-export-int8");
        Files.write(
                dir.resolve(ExportLayout.MODEL),
                QdqRewrite.rewrite(plan, params, metadata, false).toByteArray());
        Files.writeString(
                dir.resolve(ExportLayout.QUANTIZATION_REPORT), "benchmark model, calibrated on random images\n");
        Files.copy(fp32.resolve(ExportLayout.LABELS), dir.resolve(ExportLayout.LABELS));
        Files.copy(fp32.resolve(ExportLayout.PREPROCESSING), dir.resolve(ExportLayout.PREPROCESSING));
        List<String> files = new ArrayList<>(ExportLayout.REQUIRED_FILES);
        files.add(ExportLayout.QUANTIZATION_REPORT);
        ExportManifest.write(dir, files);
        deleteOnExit(dir, files);
        return dir;
    }

    static ModelSpec spec(int depth, int size, int classes) {
        return ModelSpec.of("bench-r" + depth + "-" + size, depth, classes, 2, size);
    }

    private static void writeTheRest(Path dir, ModelSpec spec, int classes, List<String> extra) throws IOException {
        List<String> labels = new ArrayList<>();
        for (int k = 0; k < classes; k++) labels.add("class-" + k);
        Files.write(dir.resolve(ExportLayout.LABELS), labels, StandardCharsets.UTF_8);
        Files.writeString(
                dir.resolve(ExportLayout.PREPROCESSING),
                PreprocessingSpec.resize(spec.imageSize())
                        .withModel(spec.id(), classes)
                        .toText());
        List<String> files = new ArrayList<>(ExportLayout.REQUIRED_FILES);
        files.addAll(extra);
        ExportManifest.write(dir, files);
        deleteOnExit(dir, files);
    }

    private static void deleteOnExit(Path dir, List<String> files) {
        dir.toFile().deleteOnExit();
        for (String f : files) dir.resolve(f).toFile().deleteOnExit();
        dir.resolve(ExportLayout.MANIFEST).toFile().deleteOnExit();
    }
}
