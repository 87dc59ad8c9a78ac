package org.sefonnx.train.run.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.sefonnx.contract.StepSignature;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.run.metrics.EpochMetrics;
import org.sefonnx.train.run.session.ModelSteps;

/** An epoch's loss terms: each term read by name from a step's outputs, weighted by the batch's images. */
class LossTermSumsTest {
    @Test
    void lossTermsAreImageWeightedMeansByName() {
        StepSignature train = StepSignature.trainStep(true);
        LossTermSums sums = new LossTermSums();
        sums.add(outputs(train, 1f), 3);
        sums.add(outputs(train, 5f), 1);
        // loss term i of a batch is (i + 1) * base: the means are (i + 1) * (3 * 1 + 1 * 5) / 4 = (i + 1) * 2
        EpochMetrics.LossTerms mean = sums.mean();
        assertEquals(new EpochMetrics.LossTerms(2, 4, 6, 8, 10), mean);
        assertEquals(new EpochMetrics.LossTerms(0, 0, 0, 0, 0), new LossTermSums().mean());
    }

    private static ModelSteps.Outputs outputs(StepSignature s, float base) {
        List<HostTensor> values = new ArrayList<>();
        for (String name : s.outputs()) {
            int term = TensorNames.LOSS_TERMS.indexOf(name);
            values.add(HostTensor.floats(new float[] {term < 0 ? Float.NaN : (term + 1) * base}));
        }
        return new ModelSteps.Outputs(s, values);
    }
}
