package org.sefonnx.generator.golden;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.sefonnx.contract.AtomicFiles;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.contract.ExportManifest;
import org.sefonnx.contract.Int8Model;
import org.sefonnx.contract.LabelFile;
import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.InferenceGraph;
import org.sefonnx.generator.model.CheckpointTensor;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.generator.model.SefModel;
import org.sefonnx.generator.quantize.BatchNormFolding;
import org.sefonnx.generator.quantize.Int8Arithmetic;
import org.sefonnx.generator.quantize.Int8Arithmetic.ActivationParams;
import org.sefonnx.generator.quantize.QdqPlan;
import org.sefonnx.generator.quantize.QdqRewrite;

/**
 * The model behind runtime-infer's golden logits: the initial checkpoint of {@link #SPEC} drawn from {@link #INIT_SEED},
 * with every BatchNorm's weight, bias, running mean and running variance replaced by a fixed formula so that eval-mode
 * normalisation is not the identity. Shared (generator test-jar) by validation's InferenceExportTest, which feeds the
 * tensors to a training session's EvalStep and checks (or regenerates) the golden file, and by runtime-infer's tests, which rebuild the
 * model with {@link InferenceGraph}: the official and the bytedeco ORT jars never share a classpath, this class does.
 */
public class GoldenTensors {
    public static final ModelSpec SPEC = ModelSpec.of("golden-r18", 18, 5, 2, 32);
    public static final long INIT_SEED = 20240611L;
    public static final List<String> LABELS = List.of("albatross", "blackbird", "finch", "gull", "warbler");
    /** Under runtime-infer/src/test/resources/images (made by runtime-infer's FixtureImages). */
    public static final List<String> IMAGES =
            List.of("bird_on_branch.jpg", "sunset_silhouette.png", "gull_grayscale.jpg", "finch_rgba.png");
    /** Under runtime-infer/src/test/resources, which owns it (validation reads it through runtime-infer's test-jar). */
    public static final String GOLDEN_FILE = "golden/golden-r18-logits.properties";

    /** Each test module's GoldenModel extends this class with its own helpers. */
    protected GoldenTensors() {}

    /** Checkpoint tensors by name, in the spec's graph order (momentum buffers left out: inference ignores them). */
    public static Map<String, float[]> tensors() {
        Map<String, float[]> all = InferenceGraph.tensors(ArtifactWriter.initialCheckpoint(SPEC, INIT_SEED));
        Map<String, float[]> model = new LinkedHashMap<>();
        int layer = 0;
        for (CheckpointTensor t : SefModel.modelTensors(SPEC)) model.put(t.name(), all.get(t.name()));
        for (CheckpointTensor t : SefModel.modelTensors(SPEC)) {
            if (!t.name().endsWith(".running_mean")) continue;
            String prefix = t.name().substring(0, t.name().length() - ".running_mean".length());
            layer++;
            float[] weight = model.get(prefix + ".weight"), bias = model.get(prefix + ".bias");
            float[] mean = model.get(prefix + ".running_mean"), variance = model.get(prefix + ".running_var");
            for (int c = 0; c < mean.length; c++) {
                // StrictMath: bit-identical on every JVM, so the copy in validation computes the same floats
                weight[c] = (float) (1.0 + 0.25 * StrictMath.sin(0.37 * c + layer));
                bias[c] = (float) (0.1 * StrictMath.cos(0.23 * c + 2 * layer));
                mean[c] = (float) (0.2 * StrictMath.sin(0.71 * c + 3 * layer));
                variance[c] = (float) (1.5 + StrictMath.cos(0.29 * c + 5 * layer));
            }
        }
        return model;
    }

    /**
     * Writes an export directory of {@link #SPEC} with {@code tensors} into {@code dir} as the trainer's exporter does:
     * model.onnx with the prediction and explain outputs and the recorded group split, labels.txt, the given
     * preprocessing.properties text, and the manifest last.
     */
    public static Path writeExport(Path dir, Map<String, float[]> tensors, String preprocessing) throws IOException {
        ModelProto model = InferenceGraph.buildExplain(SPEC, tensors).toBuilder()
                .addMetadataProps(StringStringEntryProto.newBuilder()
                        .setKey(ExportLayout.GROUP_SPLIT_METADATA)
                        .setValue(SPEC.groupSplit().toText()))
                .build();
        AtomicFiles.write(dir.resolve(ExportLayout.MODEL), model.toByteArray());
        LabelFile.write(dir.resolve(ExportLayout.LABELS), LABELS);
        AtomicFiles.writeString(dir.resolve(ExportLayout.PREPROCESSING), preprocessing);
        ExportManifest.write(dir, ExportLayout.REQUIRED_FILES);
        return dir;
    }

    /**
     * Writes an int8 export of {@link #SPEC} with {@code tensors} into {@code dir} as the trainer's int8 exporter lays
     * it out (BatchNorm folded, the QDQ model of the generator's quantize package with its precision metadata,
     * labels.txt, the preprocessing text, a quantization report, the manifest last), the activation ranges given by
     * {@code range} (tensor name of the folded model to [min, max]): calibrated by a caller that can run ONNX Runtime,
     * or fixed where only the format matters.
     */
    public static Path writeInt8Export(
            Path dir, Map<String, float[]> tensors, String preprocessing, Function<String, float[]> range)
            throws IOException {
        ModelProto fp32 = InferenceGraph.buildExplain(SPEC, tensors);
        QdqPlan plan = QdqPlan.of(BatchNormFolding.fold(fp32).model(), Set.of());
        Map<String, ActivationParams> params = new LinkedHashMap<>();
        for (String t : plan.calibratedTensors()) {
            float[] r = range.apply(t);
            params.put(t, Int8Arithmetic.activation(r[0], r[1]));
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put(ExportLayout.GROUP_SPLIT_METADATA, SPEC.groupSplit().toText());
        metadata.put(Int8Model.PRECISION_METADATA, Int8Model.INT8);
        metadata.put(Int8Model.INTEGER_CONVOLUTIONS_METADATA, Integer.toString(plan.integerConvolutions()));
        metadata.put(Int8Model.FLOAT_LAYERS_METADATA, String.join(",", plan.floatWeightedLayers()));
        metadata.put(Int8Model.CALIBRATION_METADATA, "test fixture ranges");
        ModelProto int8 = QdqRewrite.rewrite(plan, params, metadata, false);
        AtomicFiles.write(dir.resolve(ExportLayout.MODEL), int8.toByteArray());
        LabelFile.write(dir.resolve(ExportLayout.LABELS), LABELS);
        AtomicFiles.writeString(dir.resolve(ExportLayout.PREPROCESSING), preprocessing);
        AtomicFiles.writeString(dir.resolve(ExportLayout.QUANTIZATION_REPORT), "test fixture\n");
        List<String> files = new ArrayList<>(ExportLayout.REQUIRED_FILES);
        files.add(ExportLayout.QUANTIZATION_REPORT);
        ExportManifest.write(dir, files);
        return dir;
    }

    /**
     * {@link #writeInt8Export} with fixed ranges, [0, 8] for a ReLU's output and [−8, 8] for the rest: an int8 export
     * in the right format whose numbers mean little, where only the format matters.
     */
    public static Path writeInt8Export(Path dir, String preprocessing) throws IOException {
        QdqPlan plan = QdqPlan.of(
                BatchNormFolding.fold(InferenceGraph.buildExplain(SPEC, tensors()))
                        .model(),
                Set.of());
        return writeInt8Export(dir, tensors(), preprocessing, t -> {
            QdqPlan.Unit writer = plan.unitWriting(t);
            return new float[] {writer != null && writer.absorbedRelu() != null ? 0 : -8, 8};
        });
    }

    /**
     * A copy of {@code export}'s required files (no manifest, as an older export) into {@code into}, with 4 bytes of
     * model.onnx changed: the global head's first weight set to a quiet NaN (found by the little-endian bytes of its
     * first four values), so every image gets NaN logits while the file still loads.
     */
    public static Path copyWithNanWeight(Path export, Path into) throws IOException {
        for (String file : ExportLayout.REQUIRED_FILES) Files.copy(export.resolve(file), into.resolve(file));
        Path model = into.resolve(ExportLayout.MODEL);
        byte[] bytes = Files.readAllBytes(model);
        ByteBuffer head = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        head.asFloatBuffer().put(tensors().get("fc.weight"), 0, 4);
        int at = indexOf(bytes, head.array());
        if (at < 0) throw new IllegalStateException("fc.weight is not in " + model);
        ByteBuffer.wrap(bytes, at, 4).order(ByteOrder.LITTLE_ENDIAN).putFloat(Float.NaN);
        Files.write(model, bytes);
        return into;
    }

    /** Where {@code needle} first occurs in {@code haystack}, or -1. */
    public static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) if (haystack[i + j] != needle[j]) continue outer;
            return i;
        }
        return -1;
    }

    /** SHA-256 of the tensors' names and little-endian float bits, in map order. */
    public static String sha256(Map<String, float[]> tensors) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            for (Map.Entry<String, float[]> e : tensors.entrySet()) {
                digest.update(e.getKey().getBytes(StandardCharsets.UTF_8));
                ByteBuffer bytes =
                        ByteBuffer.allocate(e.getValue().length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
                bytes.asFloatBuffer().put(e.getValue());
                digest.update(bytes.array());
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
