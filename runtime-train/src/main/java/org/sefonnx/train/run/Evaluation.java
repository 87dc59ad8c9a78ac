package org.sefonnx.train.run;

import org.sefonnx.contract.ModelDescriptor;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.train.data.Batch;
import org.sefonnx.train.data.BatchLoader;
import org.sefonnx.train.ort.HostTensor;

/**
 * One pass of EvalStep over a split: the confusion matrix (top-1, mean per-class accuracy), the mean loss terms, the
 * group metrics and the pass's wall time.
 */
record Evaluation(
        ConfusionMatrix confusion, EpochMetrics.LossTerms terms, GroupMetrics.Summary groups, double seconds) {
    /** Evaluates every batch of {@code loader} (its epoch 0: evaluation order is fixed) with a progress bar labelled {@code label}. */
    static Evaluation of(ModelSteps steps, ModelDescriptor d, BatchLoader loader, Console console, String label) {
        ConfusionMatrix confusion = new ConfusionMatrix(d.numClasses());
        GroupMetrics groups = new GroupMetrics(d.groupChannels(), d.numClasses());
        ModelSteps.LossTermSums terms = new ModelSteps.LossTermSums();
        Progress bar = console.progress(label, loader.batchesPerEpoch());
        int batches = 0;
        try (BatchLoader.Epoch it = loader.epoch(0)) {
            while (it.hasNext()) {
                try (Batch b = it.next()) {
                    ModelSteps.Outputs out =
                            steps.eval(HostTensor.view(b.images(), b.shape()), HostTensor.longs(b.labels(), b.size()));
                    confusion.addBatch(out.floats(TensorNames.LOGITS), b.labels());
                    groups.addBatch(
                            out.floats(TensorNames.GROUP_BLOCK_SUMS), out.floats(TensorNames.GROUP_LOGITS), b.labels());
                    terms.add(out, b.size());
                    bar.update(++batches, b.size(), "");
                }
            }
        }
        return new Evaluation(confusion, terms.mean(), groups.summary(), bar.seconds());
    }
}
