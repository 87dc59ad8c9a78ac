package org.sefonnx.train.run.options;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The schedule a run's options give. */
class TrainOptionsTest {
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
        assertEquals(0.01, o.schedule().learningRateAt(0), 1e-15);
        assertEquals(0.01, o.schedule().learningRateAt(19), 1e-15);
        assertEquals(0.001, o.schedule().learningRateAt(20), 1e-15);
        assertEquals(0.0001, o.schedule().learningRateAt(49), 1e-15);
    }
}
