package org.sefonnx.infer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.contract.AtomicFiles;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.InferenceGraph;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.imaging.ImageDecoder;
import org.sefonnx.imaging.PreprocessingSpec;
import org.sefonnx.imaging.Preprocessor;

/**
 * SefClassifier.explain against the model's raw explain outputs, recomputed here: the group maps, the split (recorded
 * in the export, or derived for older exports), the group heads; in the one-model export and in an older export's
 * separate explain_model.onnx.
 */
class ExplainTest {
    /** 64 px: a 2 x 2 last map, so the maps have structure; G=3 on C=512 splits 170, 170, 172 (remainder to the last group). */
    static final ModelSpec SPEC = ModelSpec.of("explain-r18", 18, 5, 3, 64);

    static final int[] SEF_SPLIT = {170, 170, 172};
    static Map<String, float[]> tensors;
    static ModelProto explainGraph;
    static Path image;

    @BeforeAll
    static void buildModel() {
        tensors = InferenceGraph.tensors(ArtifactWriter.initialCheckpoint(SPEC, 11));
        explainGraph = InferenceGraph.buildExplain(SPEC, tensors);
        image = GoldenModel.image("bird_on_branch.jpg");
    }

    /** An export of {@link #SPEC} in {@code dir}: model.onnx with the given outputs' graph and metadata. */
    private static Path export(Path dir, ModelProto model, String recordedSplit) throws IOException {
        ModelProto.Builder m = model.toBuilder();
        if (recordedSplit != null) {
            m.addMetadataProps(StringStringEntryProto.newBuilder()
                    .setKey(ExportLayout.GROUP_SPLIT_METADATA)
                    .setValue(recordedSplit));
        }
        AtomicFiles.write(dir.resolve(ExportLayout.MODEL), m.build().toByteArray());
        Files.write(dir.resolve(ExportLayout.LABELS), GoldenModel.LABELS, StandardCharsets.UTF_8);
        Files.writeString(
                dir.resolve(ExportLayout.PREPROCESSING), preprocessing().toText());
        return dir;
    }

    private static PreprocessingSpec preprocessing() {
        return PreprocessingSpec.resize(64).withModel(SPEC.id(), SPEC.numClasses());
    }

    @Test
    void groupMapsAndGroupPredictionsMatchTheModelsExplainOutputs(@TempDir Path dir) throws IOException, OrtException {
        Path export = export(dir, explainGraph, "170,170,172");
        Explanation e;
        List<Prediction> predicted;
        try (SefClassifier classifier = SefClassifier.open(export)) {
            e = classifier.explain(image);
            predicted = classifier.predict(image);
        }
        assertEquals(3, e.groups());
        assertEquals(2, e.mapHeight());
        assertEquals(2, e.mapWidth());
        assertEquals(predicted, e.predictions());
        assertMatchesRawOutputs(e, export.resolve(ExportLayout.MODEL), SEF_SPLIT);
    }

    @Test
    void theRecordedSplitIsTheOneUsed(@TempDir Path dir) throws IOException, OrtException {
        // not SEF's even split: only a classifier that reads the record gets these maps
        Path export = export(dir, explainGraph, "100,150,262");
        try (SefClassifier classifier = SefClassifier.open(export)) {
            assertMatchesRawOutputs(
                    classifier.explain(image), export.resolve(ExportLayout.MODEL), new int[] {100, 150, 262});
        }
    }

    @Test
    void anOlderExportWithExplainModelOnnxAndNoRecordExplainsAlike(@TempDir Path dir) throws IOException, OrtException {
        Path export = export(dir, InferenceGraph.build(SPEC, tensors), null);
        AtomicFiles.write(export.resolve(ExportLayout.LEGACY_EXPLAIN_MODEL), explainGraph.toByteArray());
        Explanation e;
        try (SefClassifier classifier = SefClassifier.open(export)) {
            e = classifier.explain(image);
            assertEquals(classifier.predict(image), e.predictions());
        }
        // no record: the split is derived from the outputs' shapes by SEF's rule
        assertMatchesRawOutputs(e, export.resolve(ExportLayout.LEGACY_EXPLAIN_MODEL), SEF_SPLIT);
    }

    @Test
    void anExportWithoutExplainOutputsIsRefusedNamingModelOnnx(@TempDir Path dir) throws IOException {
        Path export = export(dir, InferenceGraph.build(SPEC, tensors), null);
        try (SefClassifier classifier = SefClassifier.open(export)) {
            assertEquals(5, classifier.predict(image).size());
            InvalidExportException ex = assertThrows(InvalidExportException.class, () -> classifier.explain(image));
            assertEquals(export.resolve(ExportLayout.MODEL), ex.file());
            assertTrue(ex.getMessage().contains("has no explain outputs"), ex.getMessage());
        }
    }

    @Test
    void aRecordThatDisagreesWithTheOutputsIsRefusedAtOpen(@TempDir Path dir) throws IOException {
        Path export = export(dir, explainGraph, "256,256");
        InvalidExportException e = assertThrows(InvalidExportException.class, () -> SefClassifier.open(export));
        assertEquals(export.resolve(ExportLayout.MODEL), e.file());
        assertTrue(
                e.getMessage().contains("metadata 'sef.group_channels' is 256,256 (2 groups of 512 channels)")
                        && e.getMessage().contains("3 group heads"),
                e.getMessage());
        export(dir, explainGraph, "170;170;172");
        e = assertThrows(InvalidExportException.class, () -> SefClassifier.open(export));
        assertTrue(e.getMessage().contains("expected the channels of each group"), e.getMessage());
    }

    @Test
    void upsamplingKeepsCornersAndNormalisesToUnitRange() {
        Explanation e = new Explanation(List.of(), 2, 2, List.of(new float[] {1, 2, 3, 5}), List.of());
        assertArrayEquals(new float[] {0, 0.25f, 0.5f, 1}, e.upsampled(0, 2, 2), 1e-6f);
        float[] big = e.upsampled(0, 4, 4);
        // half-pixel centres: the outer pixels clamp to the corner cells, inner ones interpolate (align_corners=False)
        assertEquals(0, big[0], 1e-6);
        assertEquals(1, big[15], 1e-6);
        assertEquals((0.75 * 0.75 * 0 + 0.75 * 0.25 * 0.25 + 0.25 * 0.75 * 0.5 + 0.25 * 0.25 * 1), big[5], 1e-6);
    }

    /**
     * {@code e} against {@code model}'s raw outputs read independently of SefClassifier: each map the mean of its
     * channels under {@code split}, each group head recomputed by hand from the weights (Linear(C_g, K) on the global
     * average of the group's slice of SEF's split, which the graph was built with), then softmax.
     */
    private static void assertMatchesRawOutputs(Explanation e, Path model, int[] split) throws OrtException {
        float[] input;
        try (ImageDecoder decoder = new ImageDecoder(false)) {
            input = new Preprocessor(preprocessing()).apply(decoder.decode(image));
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        float[] features, groupLogits;
        try (OrtSession s = env.createSession(model.toString());
                OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(input), new long[] {1, 3, 64, 64});
                OrtSession.Result r =
                        s.run(Map.of("images", x), Set.of(TensorNames.FEATURE_MAP, TensorNames.GROUP_LOGITS))) {
            features = flat((OnnxTensor) r.get(TensorNames.FEATURE_MAP).orElseThrow());
            groupLogits = flat((OnnxTensor) r.get(TensorNames.GROUP_LOGITS).orElseThrow());
        }
        assertEquals(512 * 4, features.length);
        for (int g = 0, start = 0; g < split.length; start += split[g++]) {
            float[] expected = new float[4];
            for (int ch = 0; ch < split[g]; ch++)
                for (int p = 0; p < 4; p++) expected[p] += features[(start + ch) * 4 + p] / split[g];
            assertArrayEquals(expected, e.groupMap(g), 1e-4f, "group " + g + " map");
        }
        for (int g = 0; g < 3; g++) {
            int start = g * SEF_SPLIT[0], count = SEF_SPLIT[g];
            float[] w = tensors.get("group_fc." + g + ".weight"), b = tensors.get("group_fc." + g + ".bias");
            double[] logits = new double[5];
            for (int k = 0; k < 5; k++) {
                logits[k] = b[k];
                for (int ch = 0; ch < count; ch++) {
                    double pooled = 0;
                    for (int p = 0; p < 4; p++) pooled += features[(start + ch) * 4 + p] / 4.0;
                    logits[k] += w[k * count + ch] * pooled;
                }
                assertEquals(logits[k], groupLogits[g * 5 + k], 1e-4, "group " + g + " logit " + k);
            }
            int best = 0;
            double sum = 0;
            for (int k = 0; k < 5; k++) if (logits[k] > logits[best]) best = k;
            for (int k = 0; k < 5; k++) sum += Math.exp(logits[k] - logits[best]);
            assertEquals(best, e.groupPredictions().get(g).index(), "group " + g + " top-1");
            assertEquals(1 / sum, e.groupPredictions().get(g).probability(), 1e-5, "group " + g + " probability");
        }
    }

    private static float[] flat(OnnxTensor t) {
        FloatBuffer b = t.getFloatBuffer();
        float[] v = new float[b.remaining()];
        b.get(v);
        return v;
    }
}
