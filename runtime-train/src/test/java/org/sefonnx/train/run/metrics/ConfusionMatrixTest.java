package org.sefonnx.train.run.metrics;

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
}
