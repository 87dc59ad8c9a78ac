package org.sefonnx.train.run.evaluation;

import java.util.LinkedHashMap;
import java.util.Map;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.train.run.metrics.EpochMetrics;
import org.sefonnx.train.run.session.ModelSteps;

/** Image-weighted sums of the loss terms over a pass's batches, read by name from each step's outputs; {@link #mean} is what metrics report. */
public final class LossTermSums {
    private final Map<String, Double> sums = new LinkedHashMap<>();
    private long images;

    public void add(ModelSteps.Outputs out, int batchImages) {
        for (String term : TensorNames.LOSS_TERMS)
            sums.merge(term, out.scalar(term) * (double) batchImages, Double::sum);
        images += batchImages;
    }

    /** The mean of each term over the images added (zeros when none were). */
    public EpochMetrics.LossTerms mean() {
        double n = Math.max(images, 1);
        double[] means = new double[TensorNames.LOSS_TERMS.size()];
        for (int i = 0; i < means.length; i++) means[i] = sums.getOrDefault(TensorNames.LOSS_TERMS.get(i), 0.0) / n;
        return EpochMetrics.LossTerms.of(means);
    }
}
