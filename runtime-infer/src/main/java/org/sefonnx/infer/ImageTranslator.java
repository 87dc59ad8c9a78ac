package org.sefonnx.infer;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.sefonnx.imaging.ImageDecoder;
import org.sefonnx.imaging.PreprocessingSpec;
import org.sefonnx.imaging.Preprocessor;

/**
 * Between images and the model, as DJL's Translator is: in, one image decoded once by the export's EXIF rule and
 * brought through its evaluation transform into its slot of the batch input; out, one image's row of logits and
 * probabilities, refused when not finite, ranked into labelled predictions. Stateless: the decoder (not thread-safe)
 * is the caller's.
 */
final class ImageTranslator {
    private final PreprocessingSpec preprocessing;
    private final Preprocessor preprocessor;
    private final List<String> labels;

    ImageTranslator(PreprocessingSpec preprocessing, List<String> labels) {
        this.preprocessing = preprocessing;
        this.preprocessor = new Preprocessor(preprocessing);
        this.labels = labels;
    }

    /** A decoder with the export's EXIF rule ({@code exif.orientation} of preprocessing.properties): the only kind used. */
    ImageDecoder newDecoder() {
        return new ImageDecoder(preprocessing.applyExifOrientation());
    }

    int floatsPerImage() {
        return preprocessor.floatsPerImage();
    }

    /** The model input's shape for {@code batch} images. */
    long[] inputShape(int batch) {
        return new long[] {batch, 3, preprocessing.cropHeight(), preprocessing.cropWidth()};
    }

    /** Decodes {@code image} and writes its preprocessed floats into slot {@code slot} of {@code batch}. */
    void processInput(ImageInput image, ImageDecoder decoder, FloatBuffer batch, int slot) {
        preprocessor.apply(image.decode(decoder), batch, slot * preprocessor.floatsPerImage());
    }

    /**
     * One image's result from its rows of the outputs: the top {@code k} (ties: the lower class index), and its logits
     * when {@code keepLogits}; an error result when a value is NaN or infinite.
     */
    SefClassifier.ImageResult processOutput(
            String image, String modelId, float[] logits, float[] probabilities, int k, boolean keepLogits) {
        NonFiniteOutputException error = nonFinite(image, modelId, "logits", logits);
        if (error == null) error = nonFinite(image, modelId, "probabilities", probabilities);
        if (error != null) return new SefClassifier.ImageResult(image, List.of(), null, error);
        return new SefClassifier.ImageResult(image, topK(probabilities, k), keepLogits ? logits : null, null);
    }

    /** Null when every value is finite, else the error naming the image and the output. */
    static NonFiniteOutputException nonFinite(String image, String modelId, String output, float[] values) {
        int bad = 0;
        float example = 0;
        for (float v : values) {
            if (!Float.isFinite(v)) {
                if (bad++ == 0) example = v;
            }
        }
        return bad == 0 ? null : new NonFiniteOutputException(image, modelId, output, bad, values.length, example);
    }

    private List<Prediction> topK(float[] probabilities, int k) {
        Integer[] order = new Integer[probabilities.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(
                order,
                (a, b) -> probabilities[a] != probabilities[b]
                        ? Float.compare(probabilities[b], probabilities[a])
                        : Integer.compare(a, b));
        List<Prediction> top = new ArrayList<>(Math.min(k, order.length));
        for (int i = 0; i < Math.min(k, order.length); i++)
            top.add(new Prediction(labels.get(order[i]), order[i], probabilities[order[i]]));
        return top;
    }
}
