package org.sefonnx.train.run.evaluation;

import org.sefonnx.contract.ModelDescriptor;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.train.data.Batch;
import org.sefonnx.train.data.BatchLoader;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.run.metrics.ConfusionMatrix;
import org.sefonnx.train.run.metrics.Evaluation;
import org.sefonnx.train.run.metrics.GroupMetrics;
import org.sefonnx.train.run.report.Console;
import org.sefonnx.train.run.report.Progress;
import org.sefonnx.train.run.session.ModelSteps;

/** One pass of EvalStep over a split, the test pass after every epoch and `sef-onnx eval`'s. */
public final class Evaluator {
    private Evaluator() {}

    /** Evaluates every batch of {@code loader} (its epoch 0: evaluation order is fixed) with a progress bar labelled {@code label}. */
    public static Evaluation evaluate(
            ModelSteps steps, ModelDescriptor d, BatchLoader loader, Console console, String label) {
        ConfusionMatrix confusion = new ConfusionMatrix(d.numClasses());
        GroupMetrics groups = new GroupMetrics(d.groupChannels(), d.numClasses());
        LossTermSums terms = new LossTermSums();
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
