package org.sefonnx.train.run.int8;

import java.io.IOException;
import java.util.List;
import org.sefonnx.train.data.Batch;
import org.sefonnx.train.data.BatchLoader;
import org.sefonnx.train.data.LoaderOptions;
import org.sefonnx.train.data.Sample;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;
import org.sefonnx.train.run.loop.RunSplits;

/** One pass over images as the run's evaluation reads them (its transform, EXIF rule and bad-image policy), in batches. */
final class ImagePass {
    /** What is done with each batch. */
    interface BatchAction {
        void accept(Batch batch, HostTensor images) throws IOException;
    }

    private ImagePass() {}

    /** Runs {@code action} on every batch of {@code images}, {@code batchSize} at a time, in order. */
    static void forEach(List<Sample> images, RunSplits splits, int batchSize, BatchAction action) throws IOException {
        if (images.isEmpty()) return;
        LoaderOptions o = splits.loader();
        LoaderOptions batches = new LoaderOptions(
                batchSize,
                o.workers(),
                o.prefetch(),
                o.seed(),
                false,
                o.skipBadImages(),
                o.maxBadImages(),
                o.applyExifOrientation());
        try (BatchLoader loader = new BatchLoader(images, splits.evalTransform(), batches);
                BatchLoader.Epoch epoch = loader.epoch(0)) {
            while (epoch.hasNext()) {
                try (Batch b = epoch.next()) {
                    action.accept(b, HostTensor.view(b.images(), b.shape()));
                }
            }
        }
    }

    /** A CPU inference session with the run's thread count; with {@code optimizedGraph}, ORT writes the graph it runs there. */
    static OrtAdapter.Inference open(
            OrtAdapter ort, java.nio.file.Path model, RunSplits splits, java.nio.file.Path optimizedGraph) {
        return ort.openInference(
                model,
                OrtAdapter.SessionConfig.builder(OrtAdapter.Device.CPU)
                        .intraOpThreads(splits.threads())
                        .optimizedModelFile(optimizedGraph)
                        .build());
    }
}
