package org.sefonnx.train.train;

import org.sefonnx.generator.model.SefModel;
import org.sefonnx.graphs.ModelDescriptor;
import org.sefonnx.train.data.Batch;
import org.sefonnx.train.data.BatchLoader;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;

import java.util.List;

/**
 * One pass of EvalStep over a split: the confusion matrix (top-1, mean per-class accuracy), the mean loss terms, the
 * group metrics and the pass's wall time.
 */
record Evaluation(ConfusionMatrix confusion, EpochMetrics.LossTerms terms, GroupMetrics.Summary groups, double seconds) {
    /** The loss-term outputs a pass averages, as {@link #terms} orders them. */
    private static final List<String> TERMS = List.of(SefModel.LOSS, SefModel.CROSS_ENTROPY, SefModel.ENTROPY, SefModel.DISTILLATION,
            SefModel.GROUPING);

    /** Evaluates every batch of {@code loader} (its epoch 0: evaluation order is fixed) with a progress bar labelled {@code label}. */
    static Evaluation of(OrtAdapter.Training session, ModelDescriptor d, BatchLoader loader, Console console, String label) {
        ConfusionMatrix confusion = new ConfusionMatrix(d.numClasses());
        List<String> outs = d.evalOutputs();
        int logitsAt = outs.indexOf(SefModel.LOGITS);
        int blockSumsAt = outs.indexOf(SefModel.GROUP_BLOCK_SUMS), groupLogitsAt = outs.indexOf(SefModel.GROUP_LOGITS);
        GroupMetrics groups = new GroupMetrics(d.groupChannels(), d.numClasses());
        double[] sums = new double[outs.size()];
        long images = 0;
        Progress bar = console.progress(label, loader.batchesPerEpoch());
        int batches = 0;
        try (BatchLoader.Epoch it = loader.epoch(0)) {
            while (it.hasNext()) {
                try (Batch b = it.next()) {
                    HostTensor pixels = HostTensor.view(b.images(), b.shape()), labels = HostTensor.longs(b.labels(), b.size());
                    List<HostTensor> out = session.evalStep(List.of(pixels, labels));
                    confusion.addBatch(out.get(logitsAt).toFloats(), b.labels());
                    groups.addBatch(out.get(blockSumsAt).toFloats(), out.get(groupLogitsAt).toFloats(), b.labels());
                    for (String term : TERMS) sums[outs.indexOf(term)] += out.get(outs.indexOf(term)).scalar() * (double) b.size();
                    images += b.size();
                    bar.update(++batches, b.size(), "");
                }
            }
        }
        return new Evaluation(confusion, terms(sums, images, outs), groups.summary(), bar.seconds());
    }

    /** The mean loss terms from per-output sums over {@code n} images; {@code names} are the outputs in sum order. */
    static EpochMetrics.LossTerms terms(double[] sums, long n, List<String> names) {
        double div = Math.max(n, 1);
        double[] mean = new double[TERMS.size()];
        for (int i = 0; i < mean.length; i++) mean[i] = sums[names.indexOf(TERMS.get(i))] / div;
        return new EpochMetrics.LossTerms(mean[0], mean[1], mean[2], mean[3], mean[4]);
    }
}
