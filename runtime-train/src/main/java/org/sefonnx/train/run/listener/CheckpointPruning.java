package org.sefonnx.train.run.listener;

import java.io.IOException;
import org.sefonnx.train.run.state.CommitStep;
import org.sefonnx.train.run.state.RunCommits;

/** The last step of an epoch's commit: the checkpoints the new run state no longer names are deleted ({@link RunCommits#prune}). */
public final class CheckpointPruning implements TrainingListener {
    private final RunCommits commits;

    public CheckpointPruning(RunCommits commits) {
        this.commits = commits;
    }

    @Override
    public CommitStep epochStep() {
        return CommitStep.PRUNE_CHECKPOINTS;
    }

    @Override
    public void epochCommitted(EpochEnd end) throws IOException {
        commits.prune(end.state());
    }
}
