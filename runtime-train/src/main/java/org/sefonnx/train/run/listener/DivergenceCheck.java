package org.sefonnx.train.run.listener;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import org.sefonnx.train.run.state.RunDirectory;
import org.sefonnx.train.run.state.RunState;
import org.sefonnx.train.run.state.TrainingDivergedException;

/**
 * Stops a run whose loss became inf or NaN before its optimizer step, naming the step and the last good checkpoint
 * (DJL's {@code DivergenceCheckTrainingListener}). A step that mixed precision skipped never reaches it: its loss
 * overflowed with its gradients, and the loss scale backs off instead.
 */
public final class DivergenceCheck implements TrainingListener {
    private final RunDirectory run;
    /** The state the current epoch started from: its last checkpoint is the last good one. */
    private RunState committed;

    public DivergenceCheck(RunDirectory run) {
        this.run = run;
    }

    @Override
    public void runStarting(RunState state) {
        committed = state;
    }

    @Override
    public Optional<String> beforeOptimizerStep(TrainingBatch b) {
        float loss = b.loss();
        if (Float.isFinite(loss)) return Optional.empty();
        Path lastGood = run.root().resolve(committed.last());
        throw new TrainingDivergedException(String.format(
                Locale.ROOT,
                "the loss became %s at epoch %d, step %d (global step %d); training stopped. The last good checkpoint is %s. "
                        + "Lower --lr or check the data.",
                loss,
                b.epoch() + 1,
                b.batch(),
                b.globalStep(),
                (b.epoch() > 0 ? "" : "the initial ") + lastGood + " (after epoch " + b.epoch() + ")"));
    }

    @Override
    public void epochCommitted(EpochEnd end) {
        committed = end.state();
    }
}
