package org.sefonnx.train.run.report;

import java.io.IOException;
import java.util.List;
import org.sefonnx.train.run.listener.TrainingListener;
import org.sefonnx.train.run.metrics.ConfusionMatrix;
import org.sefonnx.train.run.state.CommitStep;
import org.sefonnx.train.run.state.RunDirectory;
import org.sefonnx.train.run.state.RunState;

/** confusion-best.csv: the best epoch's confusion matrix on the selecting split, from the run state's counts. */
public final class BestConfusion implements TrainingListener {
    private final RunDirectory run;
    private final List<String> classNames;

    public BestConfusion(RunDirectory run, List<String> classNames) {
        this.run = run;
        this.classNames = classNames;
    }

    @Override
    public CommitStep epochStep() {
        return CommitStep.WRITE_CONFUSION;
    }

    @Override
    public void runStarting(RunState committed) throws IOException {
        if (committed.best() != null) write(committed);
    }

    @Override
    public void epochCommitted(EpochEnd end) throws IOException {
        if (end.bestChanged()) write(end.state());
    }

    private void write(RunState state) throws IOException {
        ConfusionMatrix.fromCountsLine(classNames.size(), state.bestConfusion())
                .write(run.bestConfusionMatrix(), classNames);
    }
}
