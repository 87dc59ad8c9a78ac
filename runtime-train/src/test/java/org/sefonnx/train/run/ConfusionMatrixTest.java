package org.sefonnx.train.run;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ConfusionMatrixTest {
    @Test
    void top1AndMeanPerClassAccuracyDifferOnImbalancedClasses() {
        ConfusionMatrix m = new ConfusionMatrix(3);
        // class 0: 8 of 8 right; class 1: 1 of 2 right; class 2: absent from the test set
        m.addBatch(
                new float[] {5, 1, 0, 5, 1, 0, 5, 1, 0, 5, 1, 0, 5, 1, 0, 5, 1, 0, 5, 1, 0, 5, 1, 0, 0, 3, 1, 2, 1, 0},
                new long[] {0, 0, 0, 0, 0, 0, 0, 0, 1, 1});
        assertEquals(10, m.total());
        assertEquals(0.9, m.top1(), 1e-12);
        assertEquals((1.0 + 0.5) / 2, m.meanClassAccuracy(), 1e-12);
        assertEquals(1, m.count(1, 0));
    }

    @Test
    void stepLrDividesByTenEveryStep() {
        TrainOptions o = TrainOptions.builder(org.sefonnx.generator.ShippedSpecs.demo(), java.nio.file.Path.of("x"))
                .epochs(50)
                .batchSize(32)
                .learningRate(0.01)
                .lrStepEpochs(20)
                .lrGamma(0.1)
                .seed(1)
                .device(TrainOptions.Device.CPU)
                .threads(1)
                .workers(1)
                .build();
        assertEquals(0.01, o.learningRateAt(0), 1e-15);
        assertEquals(0.01, o.learningRateAt(19), 1e-15);
        assertEquals(0.001, o.learningRateAt(20), 1e-15);
        assertEquals(0.0001, o.learningRateAt(49), 1e-15);
    }
}
