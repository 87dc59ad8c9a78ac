package org.sefonnx.train.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.sefonnx.generator.ShippedSpecs;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.train.data.DemoData;
import org.sefonnx.train.data.Layout;
import org.sefonnx.train.run.options.TrainOptions;

/** A tiny, fast training setup for the trainer tests: 60 train / 30 test Fashion-MNIST images, ResNet-18 at 32 px. */
final class SmallRun {
    private SmallRun() {}

    /** Writes a 6-per-class train / 3-per-class test IDX subset of the embedded demo data into {@code dir}. */
    static Path data(Path dir) throws IOException {
        Path full = DemoData.extract(dir.resolve("full"));
        Path small = dir.resolve("small");
        Files.createDirectories(small);
        DemoData.subset(
                full.resolve(DemoData.FILES.get(0)),
                full.resolve(DemoData.FILES.get(1)),
                6,
                small.resolve(DemoData.FILES.get(0)),
                small.resolve(DemoData.FILES.get(1)));
        DemoData.subset(
                full.resolve(DemoData.FILES.get(2)),
                full.resolve(DemoData.FILES.get(3)),
                3,
                small.resolve(DemoData.FILES.get(2)),
                small.resolve(DemoData.FILES.get(3)));
        return small;
    }

    static TrainOptions options(Path data, Path out, int epochs, double lr) {
        ModelSpec spec = ShippedSpecs.demo();
        return TrainOptions.builder(spec, out)
                .data(Layout.IDX, data)
                .epochs(epochs)
                .batchSize(12)
                .learningRate(lr)
                .lrStepEpochs(1)
                .lrGamma(0.5)
                .seed(7)
                .device(TrainOptions.Device.CPU)
                .threads(1)
                .workers(1)
                .build();
    }
}
