package org.sefonnx.infer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * SefClassifier on the official ONNX Runtime reproduces the golden logits that the bytedeco training session's
 * EvalStep produced (validation's InferenceExportTest) for the same checkpoint and pictures.
 */
class GoldenLogitsTest {
    /** Absolute logit tolerance against the golden file (another ORT build, another CPU's kernels). */
    static final double GOLDEN_TOLERANCE = 1e-5;

    @Test
    void classifierReproducesTheGoldenLogitsFromTheRebuiltModel() throws IOException {
        Properties golden = GoldenModel.golden();
        assertEquals(
                golden.getProperty("tensorsSha256"),
                GoldenModel.sha256(GoldenModel.tensors()),
                "the golden model's tensors changed: regenerate the golden file (validation, -Dsef.regenerateGoldens=true)");
        assertEquals(String.join(",", GoldenModel.IMAGES), golden.getProperty("images"));
        double worst = 0;
        try (SefClassifier classifier = SefClassifier.open(GoldenModel.sharedExport())) {
            for (String image : GoldenModel.IMAGES) {
                float[] expected = GoldenModel.goldenLogits(golden, image);
                float[] logits = classifier.logits(GoldenModel.image(image));
                assertEquals(expected.length, logits.length);
                for (int k = 0; k < logits.length; k++) worst = Math.max(worst, Math.abs(expected[k] - logits[k]));
            }
        }
        System.out.printf(Locale.ROOT, "runtime-infer vs golden logits: max |diff| = %.3g%n", worst);
        assertTrue(worst <= GOLDEN_TOLERANCE, "max |logit - golden| = " + worst);
    }

    @Test
    void everyEntryPointGivesTheSameLogitsAndProbabilities() throws IOException {
        try (SefClassifier classifier = SefClassifier.open(
                GoldenModel.sharedExport(), SefClassifier.Options.defaults().withTopK(5))) {
            List<Path> files = new ArrayList<>();
            for (String image : GoldenModel.IMAGES) files.add(GoldenModel.image(image));
            List<List<Prediction>> batch = classifier.predictBatch(files);
            assertEquals(files.size(), batch.size());
            for (int i = 0; i < files.size(); i++) {
                Path file = files.get(i);
                float[] logits = classifier.logits(file);
                assertArrayEquals(logits, classifier.logits(Files.readAllBytes(file)), 0f);
                List<Prediction> single = classifier.predict(file);
                assertEquals(single, classifier.predict(Files.readAllBytes(file)));
                // a batch of four runs other kernels than a batch of one: equal to float rounding
                for (int k = 0; k < single.size(); k++) {
                    assertEquals(single.get(k).index(), batch.get(i).get(k).index());
                    assertEquals(
                            single.get(k).probability(), batch.get(i).get(k).probability(), 1e-6);
                }
                double[] softmax = softmax(logits);
                for (Prediction p : single) assertEquals(softmax[p.index()], p.probability(), 1e-6);
                for (int k = 1; k < single.size(); k++)
                    assertTrue(single.get(k - 1).probability() >= single.get(k).probability());
                assertEquals(
                        GoldenModel.LABELS.get(single.get(0).index()),
                        single.get(0).label());
            }
            // a caller's BufferedImage is converted like a decoded file (here the JDK decodes the same plain JPEG)
            Path jpeg = GoldenModel.image("bird_on_branch.jpg");
            BufferedImage decoded = ImageIO.read(jpeg.toFile());
            assertArrayEquals(classifier.logits(jpeg), classifier.logits(decoded), 0f);
            assertEquals(classifier.predict(jpeg), classifier.predict(decoded));
        }
    }

    static double[] softmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float v : logits) max = Math.max(max, v);
        double[] p = new double[logits.length];
        for (int k = 0; k < p.length; k++) sum += p[k] = Math.exp(logits[k] - max);
        for (int k = 0; k < p.length; k++) p[k] /= sum;
        return p;
    }
}
