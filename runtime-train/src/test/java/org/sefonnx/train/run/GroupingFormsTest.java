package org.sefonnx.train.run;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.generator.ShippedSpecs;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.train.data.DemoData;
import org.sefonnx.train.data.Layout;
import org.sefonnx.train.run.explain.Explainer;
import org.sefonnx.train.run.metrics.EpochMetrics;
import org.sefonnx.train.run.options.TrainOptions;

/**
 * The measured check of SEF's mechanism: on real Fashion-MNIST images at 48 px (last map 2 x 2, where the grouping
 * loss is not constant), the same seed trained twice for the same budget with φ=1 and φ=0 (λ=1, γ=0.05 as the paper):
 * with the grouping loss on, channels correlate more within their group than across groups by a clear margin more than
 * without it, and L_group falls well below its value at the initial weights.
 */
class GroupingFormsTest {
    /** 48 px: conv1/2, maxpool/2, three stride-2 stages (with padding) leave a 2 x 2 map, the cheapest size above 1 x 1. */
    static final int IMAGE_SIZE_PX = 48;

    static final int TRAIN_PER_CLASS = 80, TEST_PER_CLASS = 20, EPOCHS = 2, BATCH = 16;
    /** Measured on this subset: gap 0.2459 (φ=1) vs 0.0025 (φ=0), L_group 0.3771 vs 0.4990 initially; about 60 % of each. */
    static final double MIN_GAP_DIFFERENCE = 0.15, MIN_GROUPING_DROP = 0.07;

    @Test
    void groupingLossSeparatesTheGroupsOnlyWhenItIsOn(@TempDir Path dir) throws IOException {
        Path data = subset(dir);
        PrintStream quiet = new PrintStream(PrintStream.nullOutputStream());
        ModelSpec spec = ShippedSpecs.demo().withImageSize(IMAGE_SIZE_PX).withId("grouping-check-48");
        Trainer.Result on = new Trainer(options(spec, data, dir.resolve("phi1")), quiet).train();
        Trainer.Result off = new Trainer(
                        options(
                                spec.withLosses(spec.lambda(), spec.gamma(), 0, spec.groupingLoss()),
                                data,
                                dir.resolve("phi0")),
                        quiet)
                .train();
        EpochMetrics lastOn = on.metrics().get(EPOCHS - 1),
                lastOff = off.metrics().get(EPOCHS - 1);

        // L_group at the initial weights, from the explainer's squared cosines over the same test images
        Explainer.Result initial = Explainer.explain(
                new Explainer.Request(
                        dir.resolve("phi1"),
                        dir.resolve("phi1/artifacts/checkpoint").toString(),
                        List.of(),
                        TEST_PER_CLASS * 10,
                        false,
                        dir.resolve("initial")),
                quiet);
        double initialGrouping = 0.5
                * ((1 - initial.correlation().intra()) + initial.correlation().inter());

        String measured = String.format(
                Locale.ROOT,
                "phi=1: intra %.4f inter %.4f gap %.4f, test L_group %.4f; phi=0: intra %.4f inter %.4f gap %.4f, "
                        + "test L_group %.4f; initial L_group %.4f",
                lastOn.groups().intraSquaredCosine(),
                lastOn.groups().interSquaredCosine(),
                lastOn.groups().gap(),
                lastOn.test().grouping(),
                lastOff.groups().intraSquaredCosine(),
                lastOff.groups().interSquaredCosine(),
                lastOff.groups().gap(),
                lastOff.test().grouping(),
                initialGrouping);
        System.out.println("GroupingFormsTest: " + measured);
        assertTrue(lastOn.groups().gap() - lastOff.groups().gap() > MIN_GAP_DIFFERENCE, measured);
        assertTrue(lastOn.test().grouping() < initialGrouping - MIN_GROUPING_DROP, measured);
    }

    private static TrainOptions options(ModelSpec spec, Path data, Path out) {
        return TrainOptions.builder(spec, out)
                .data(Layout.IDX, data)
                .epochs(EPOCHS)
                .batchSize(BATCH)
                .learningRate(0.01)
                .lrStepEpochs(10)
                .lrGamma(0.1)
                .seed(42)
                .device(TrainOptions.Device.CPU)
                // the initial weights' explain pass below reads artifacts/checkpoint after the run
                .keepInitialCheckpoint(true)
                .build();
    }

    /** A class-balanced subset of the embedded demo: 80 train / 20 test images per class. */
    private static Path subset(Path dir) throws IOException {
        Path full = DemoData.extract(dir.resolve("full"));
        Path small = dir.resolve("small");
        Files.createDirectories(small);
        List<String> f = DemoData.FILES;
        DemoData.subset(
                full.resolve(f.get(0)),
                full.resolve(f.get(1)),
                TRAIN_PER_CLASS,
                small.resolve(f.get(0)),
                small.resolve(f.get(1)));
        DemoData.subset(
                full.resolve(f.get(2)),
                full.resolve(f.get(3)),
                TEST_PER_CLASS,
                small.resolve(f.get(2)),
                small.resolve(f.get(3)));
        return small;
    }
}
