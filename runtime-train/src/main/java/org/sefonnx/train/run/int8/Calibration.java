package org.sefonnx.train.run.int8;

import ai.onnx.proto.OnnxMl.ModelProto;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.generator.quantize.ActivationHistogram;
import org.sefonnx.generator.quantize.QdqRewrite;
import org.sefonnx.train.data.Sample;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;
import org.sefonnx.train.run.loop.RunSplits;

/**
 * The activation statistics of the BatchNorm-folded float model over the calibration images, and the check that
 * folding kept the float32 export's arithmetic: both models run on the same batches, and their logits must agree to
 * {@value #FOLD_TOLERANCE} of the logits' magnitude (measured: about 1e-6 at ResNet-18; a wrong fold is off by O(1)).
 */
final class Calibration {
    /** The largest |Δlogit| between the folded and the float32 export, relative to max(1, max |logit|). */
    static final double FOLD_TOLERANCE = 1e-4;
    /** Floats of every calibrated tensor together held per batch: the batch shrinks to stay under it (1 GiB). */
    private static final long FLOATS_PER_BATCH = 256L << 20;

    /** What calibration saw: a histogram per tensor, and how far the folded model's logits were from the export's. */
    record Result(
            Map<String, ActivationHistogram> histograms, double foldDifference, double logitMagnitude, int images) {}

    private Calibration() {}

    /**
     * {@code count} training images drawn by a shuffle seeded with {@code seed} (all of them when there are fewer),
     * in training-split order: the same run and options always calibrate on the same images.
     */
    static List<Sample> sample(List<Sample> train, int count, long seed) {
        List<Integer> order =
                new ArrayList<>(IntStream.range(0, train.size()).boxed().toList());
        Collections.shuffle(order, new Random(seed));
        List<Integer> chosen = new ArrayList<>(order.subList(0, Math.min(count, order.size())));
        Collections.sort(chosen);
        return chosen.stream().map(train::get).toList();
    }

    /**
     * Runs {@code fp32} (the export's model file) and {@code folded} with {@code tensors} as extra outputs over
     * {@code images}; fails when the folded logits leave the tolerance.
     */
    static Result run(
            OrtAdapter ort,
            Path fp32,
            ModelProto folded,
            List<String> tensors,
            List<Sample> images,
            RunSplits splits,
            Path work)
            throws IOException {
        Path probe = work.resolve("calibration.onnx");
        List<String> outputs = new ArrayList<>(tensors);
        outputs.add(0, TensorNames.LOGITS);
        Files.write(probe, QdqRewrite.withOutputs(folded, tensors).toByteArray());
        Map<String, ActivationHistogram> histograms = new LinkedHashMap<>();
        for (String t : tensors) histograms.put(t, new ActivationHistogram());
        double[] fold = new double[2];
        int[] seen = new int[1];
        try (OrtAdapter.Inference reference = ImagePass.open(ort, fp32, splits, null);
                OrtAdapter.Inference probed = ImagePass.open(ort, probe, splits, null)) {
            // one image first, to learn how many floats an image's tensors take, then batches that fit the budget
            int[] batch = {1};
            List<List<Sample>> parts = List.of(images.subList(0, 1), images.subList(1, images.size()));
            for (List<Sample> part : parts) {
                ImagePass.forEach(part, splits, batch[0], (b, input) -> {
                    List<HostTensor> out = probed.run(List.of(TensorNames.IMAGES), List.of(input), outputs);
                    float[] expected = reference
                            .run(List.of(TensorNames.IMAGES), List.of(input), List.of(TensorNames.LOGITS))
                            .get(0)
                            .toFloats();
                    float[] logits = out.get(0).toFloats();
                    for (int i = 0; i < logits.length; i++) {
                        fold[0] = Math.max(fold[0], Math.abs(logits[i] - expected[i]));
                        fold[1] = Math.max(fold[1], Math.abs(expected[i]));
                    }
                    long floats = 0;
                    for (int i = 1; i < out.size(); i++) floats += out.get(i).numel();
                    IntStream.range(1, out.size()).parallel().forEach(i -> {
                        float[] v = out.get(i).toFloats();
                        ActivationHistogram h = histograms.get(outputs.get(i));
                        try {
                            h.add(v, 0, v.length);
                        } catch (IllegalArgumentException e) {
                            throw new IllegalStateException(
                                    "calibration: tensor '" + outputs.get(i) + "' of the " + "float model has a "
                                            + e.getMessage() + " on these images",
                                    e);
                        }
                    });
                    seen[0] += b.size();
                    batch[0] = (int) Math.max(
                            1,
                            Math.min(splits.loader().batchSize(), FLOATS_PER_BATCH * b.size() / Math.max(1, floats)));
                });
            }
        } finally {
            Files.deleteIfExists(probe);
        }
        double allowed = FOLD_TOLERANCE * Math.max(1, fold[1]);
        if (!(fold[0] <= allowed)) {
            throw new IllegalStateException(String.format(
                    java.util.Locale.ROOT,
                    "BatchNorm folding changed the model: its logits differ from the float32 export's by up to %.3g "
                            + "(allowed %.3g) on the calibration images; the int8 model was not written",
                    fold[0],
                    allowed));
        }
        return new Result(histograms, fold[0], fold[1], seen[0]);
    }
}
