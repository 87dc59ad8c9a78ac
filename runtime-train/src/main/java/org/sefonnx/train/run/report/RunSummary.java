package org.sefonnx.train.run.report;

import java.io.IOException;
import java.util.List;
import java.util.Locale;
import org.sefonnx.contract.AtomicFiles;
import org.sefonnx.train.run.listener.TrainingListener;
import org.sefonnx.train.run.metrics.EpochMetrics;
import org.sefonnx.train.run.options.Protocol;
import org.sefonnx.train.run.state.CommitStep;
import org.sefonnx.train.run.state.RunDirectory;
import org.sefonnx.train.run.state.RunState;

/** summary.txt, the last file a run writes (so its presence means the run finished): the best epoch, the selection rule, the export. */
public final class RunSummary implements TrainingListener {
    private final RunDirectory run;
    private final Protocol protocol;
    /** What the validation split holds out (ValidationSplit.heldOut); null without one. */
    private final String heldOut;

    public RunSummary(RunDirectory run, Protocol protocol, String heldOut) {
        this.run = run;
        this.protocol = protocol;
        this.heldOut = heldOut;
    }

    @Override
    public CommitStep endStep() {
        return CommitStep.SUMMARY;
    }

    @Override
    public void runFinished(RunEnd end) throws IOException {
        RunState state = end.state();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(
                Locale.ROOT,
                "best %s top-1: %.4f (%d/%d) at epoch %d%n",
                protocol.selectingSplitName(),
                state.bestTop1(),
                state.bestCorrect(),
                state.bestTotal(),
                state.bestEpoch() + 1));
        if (protocol.selectOn() == Protocol.SelectOn.VAL) {
            EpochMetrics at = state.metrics().get(state.bestEpoch());
            sb.append(String.format(
                    Locale.ROOT,
                    "test top-1 at that epoch: %.4f, mean per-class %.4f%n",
                    at.testTop1(),
                    at.testMeanClassAccuracy()));
        }
        sb.append("selection rule: ").append(protocol.describe()).append('\n');
        if (heldOut != null) sb.append("validation split: ").append(heldOut).append('\n');
        List<EpochMetrics> rows = state.metrics();
        if (!rows.isEmpty()) {
            EpochMetrics last = rows.get(rows.size() - 1);
            sb.append(String.format(
                    Locale.ROOT,
                    "last epoch %d: test top-1 %.4f, mean per-class %.4f, train loss %.4f%n",
                    last.epoch() + 1,
                    last.testTop1(),
                    last.testMeanClassAccuracy(),
                    last.train().loss()));
        }
        sb.append("skipped bad images: ").append(end.skippedImages().size()).append('\n');
        for (String reason : end.skippedImages().values())
            sb.append("  ").append(reason).append('\n');
        sb.append("export: ").append(run.export()).append('\n');
        AtomicFiles.writeString(run.summary(), sb.toString());
    }
}
