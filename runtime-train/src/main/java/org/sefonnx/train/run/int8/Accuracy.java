package org.sefonnx.train.run.int8;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.sefonnx.contract.Int8Model;
import org.sefonnx.contract.OnnxModelScan;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.train.ort.OrtAdapter;
import org.sefonnx.train.run.loop.RunSplits;
import org.sefonnx.train.run.metrics.ConfusionMatrix;

/** A model's top-1 and mean per-class accuracy on the run's selecting split, as ONNX Runtime's CPU provider runs it. */
record Accuracy(long correct, long images, double top1, double meanClassAccuracy) {
    /** How many percentage points of top-1 {@code other} loses against this. */
    double dropTo(Accuracy other) {
        return 100 * (top1 - other.top1);
    }

    /**
     * Runs {@code model} over the selecting split. For an int8 model ({@code int8Metadata} not null) the session's
     * optimized graph is written to {@code work} and checked first ({@link Int8Model#checkKernels}): a model whose
     * convolutions ORT would run in float32 is refused before it is scored.
     */
    static Accuracy of(OrtAdapter ort, Path model, RunSplits splits, Map<String, String> int8Metadata, Path work)
            throws IOException {
        Path optimized = int8Metadata == null ? null : work.resolve("optimized.onnx");
        ConfusionMatrix confusion = new ConfusionMatrix(splits.classNames().size());
        try (OrtAdapter.Inference session = ImagePass.open(ort, model, splits, optimized)) {
            if (optimized != null) {
                String problem = Int8Model.checkKernels(
                        int8Metadata, OnnxModelScan.read(optimized).operators());
                if (problem != null) throw new IllegalStateException("the int8 model was not written: " + problem);
            }
            ImagePass.forEach(
                    splits.selecting(),
                    splits,
                    splits.loader().batchSize(),
                    (b, input) -> confusion.addBatch(
                            session.run(List.of(TensorNames.IMAGES), List.of(input), List.of(TensorNames.LOGITS))
                                    .get(0)
                                    .toFloats(),
                            b.labels()));
        } finally {
            if (optimized != null) Files.deleteIfExists(optimized);
        }
        if (confusion.total() == 0)
            throw new IllegalStateException("the " + splits.selectingSplit() + " split has no images to score");
        return new Accuracy(confusion.correct(), confusion.total(), confusion.top1(), confusion.meanClassAccuracy());
    }
}
