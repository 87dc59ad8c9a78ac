package org.sefonnx.infer;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sefonnx.imaging.ImageDecoder;
import org.sefonnx.imaging.Preprocessor;

/** runtime-infer's logits against {@link ResNetReference}, a double-precision plain-Java forward of the same weights. */
class ReferenceForwardTest {
    /** float32 ORT vs double reference, logits of order 0.3 after 20 layers. */
    static final double REFERENCE_TOLERANCE = 1e-5;

    @Test
    void classifierLogitsMatchThePlainJavaResNet18Forward() throws IOException {
        Map<String, float[]> tensors = GoldenModel.tensors();
        ResNetReference reference = new ResNetReference(tensors);
        Preprocessor preprocessor = new Preprocessor(GoldenModel.PREPROCESSING);
        int per = preprocessor.floatsPerImage(), n = GoldenModel.IMAGES.size(), k = GoldenModel.SPEC.numClasses();
        float[] nchw = new float[n * per];
        try (ImageDecoder decoder = new ImageDecoder()) {
            for (int i = 0; i < n; i++) {
                preprocessor.apply(
                        decoder.decode(GoldenModel.image(GoldenModel.IMAGES.get(i))), FloatBuffer.wrap(nchw), i * per);
            }
        }
        double worst = 0, largest = 0;
        try (SefClassifier classifier = SefClassifier.open(GoldenModel.sharedExport())) {
            float[][] logits = classifier.logitsOfPreprocessed(nchw);
            for (int i = 0; i < n; i++) {
                float[] image = new float[per];
                System.arraycopy(nchw, i * per, image, 0, per);
                double[] expected = reference.logits(image, GoldenModel.SPEC.imageSize(), k);
                float[] fromFile = classifier.logits(GoldenModel.image(GoldenModel.IMAGES.get(i)));
                for (int c = 0; c < k; c++) {
                    worst = Math.max(worst, Math.abs(expected[c] - logits[i][c]));
                    worst = Math.max(worst, Math.abs(expected[c] - fromFile[c]));
                    largest = Math.max(largest, Math.abs(expected[c]));
                }
            }
        }
        System.out.printf(
                Locale.ROOT,
                "plain-Java reference vs runtime-infer: max |diff| = %.3g (largest |logit| %.3g)%n",
                worst,
                largest);
        assertTrue(largest > 0.05, "the reference logits are not trivially zero");
        assertTrue(worst <= REFERENCE_TOLERANCE, "max |reference - runtime-infer| = " + worst);
    }
}
