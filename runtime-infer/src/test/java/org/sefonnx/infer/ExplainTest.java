package org.sefonnx.infer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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

/** SefClassifier.explain against the explain model's raw outputs, recomputed here: the group maps, the split, the group heads. */
class ExplainTest {
    /** 64 px: a 2 x 2 last map, so the maps have structure; G=3 on C=512 splits 170, 170, 172 (remainder to the last group). */
    static final ModelSpec SPEC = ModelSpec.of("explain-r18", 18, 5, 3, 64);

    @Test
    void groupMapsAndGroupPredictionsMatchTheExplainModelsOutputs(@TempDir Path dir) throws IOException, OrtException {
        Map<String, float[]> tensors = InferenceGraph.tensors(ArtifactWriter.initialCheckpoint(SPEC, 11));
        InferenceGraph.write(SPEC, tensors, dir.resolve(ExportLayout.MODEL));
        AtomicFiles.write(
                dir.resolve(ExportLayout.EXPLAIN_MODEL),
                InferenceGraph.buildExplain(SPEC, tensors).toByteArray());
        Files.write(dir.resolve(ExportLayout.LABELS), GoldenModel.LABELS, StandardCharsets.UTF_8);
        PreprocessingSpec preprocessing = PreprocessingSpec.resize(64).withModel(SPEC.id(), SPEC.numClasses());
        Files.writeString(dir.resolve(ExportLayout.PREPROCESSING), preprocessing.toText());
        Path image = GoldenModel.image("bird_on_branch.jpg");

        Explanation e;
        List<Prediction> predicted;
        try (SefClassifier classifier = SefClassifier.open(dir)) {
            e = classifier.explain(image);
            predicted = classifier.predict(image);
        }
        assertEquals(3, e.groups());
        assertEquals(2, e.mapHeight());
        assertEquals(2, e.mapWidth());
        assertEquals(predicted, e.predictions());

        // the raw outputs, read independently of SefClassifier
        float[] input;
        try (ImageDecoder decoder = new ImageDecoder(false)) {
            input = new Preprocessor(preprocessing).apply(decoder.decode(image));
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        float[] features, groupLogits;
        try (OrtSession s = env.createSession(
                        dir.resolve(ExportLayout.EXPLAIN_MODEL).toString());
                OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(input), new long[] {1, 3, 64, 64});
                OrtSession.Result r =
                        s.run(Map.of("images", x), Set.of(TensorNames.FEATURE_MAP, TensorNames.GROUP_LOGITS))) {
            features = flat((OnnxTensor) r.get(TensorNames.FEATURE_MAP).orElseThrow());
            groupLogits = flat((OnnxTensor) r.get(TensorNames.GROUP_LOGITS).orElseThrow());
        }
        assertEquals(512 * 4, features.length);
        int[] starts = {0, 170, 340}, counts = {170, 170, 172};
        for (int g = 0; g < 3; g++) {
            float[] expected = new float[4];
            double[] pooled = new double[counts[g]];
            for (int ch = 0; ch < counts[g]; ch++) {
                for (int p = 0; p < 4; p++) {
                    expected[p] += features[(starts[g] + ch) * 4 + p] / counts[g];
                    pooled[ch] += features[(starts[g] + ch) * 4 + p] / 4.0;
                }
            }
            assertArrayEquals(expected, e.groupMap(g), 1e-4f, "group " + g + " map");
            // the group head by hand: Linear(C_g, K) on GAP of the group's slice, then softmax
            float[] w = tensors.get("group_fc." + g + ".weight"), b = tensors.get("group_fc." + g + ".bias");
            double[] logits = new double[5];
            for (int k = 0; k < 5; k++) {
                logits[k] = b[k];
                for (int ch = 0; ch < counts[g]; ch++) logits[k] += w[k * counts[g] + ch] * pooled[ch];
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

    @Test
    void anExportWithoutTheExplainModelIsRefusedNamingTheFile() throws IOException {
        try (SefClassifier classifier = SefClassifier.open(GoldenModel.sharedExport())) {
            InvalidExportException ex = assertThrows(
                    InvalidExportException.class, () -> classifier.explain(GoldenModel.image("bird_on_branch.jpg")));
            assertEquals(GoldenModel.sharedExport().resolve(ExportLayout.EXPLAIN_MODEL), ex.file());
        }
    }

    private static float[] flat(OnnxTensor t) {
        FloatBuffer b = t.getFloatBuffer();
        float[] v = new float[b.remaining()];
        b.get(v);
        return v;
    }
}
