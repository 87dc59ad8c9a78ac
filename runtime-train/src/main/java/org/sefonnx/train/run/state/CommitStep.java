package org.sefonnx.train.run.state;

import java.util.List;

/**
 * The file operations of a run's commit sequence ({@link RunCommits}), in their order: what the kill-at-every-step
 * test proves safe and {@link RunCommits.Hook} sees just before each. An epoch saves its checkpoint, commits the run
 * state, then writes what derives from it; the run's end exports the best checkpoint, then writes the summary.
 */
public enum CommitStep {
    SAVE_CHECKPOINT("save checkpoint"),
    COMMIT_STATE("commit state"),
    WRITE_METRICS("write metrics"),
    WRITE_CONFUSION("write confusion"),
    PRUNE_CHECKPOINTS("prune checkpoints"),
    EXPORT("export"),
    SUMMARY("summary");

    /** The steps of an epoch's commit, in order: the first two are the sequence's own, the rest listeners'. */
    public static final List<CommitStep> EPOCH =
            List.of(SAVE_CHECKPOINT, COMMIT_STATE, WRITE_METRICS, WRITE_CONFUSION, PRUNE_CHECKPOINTS);
    /** The steps of the run's end, in order, each a listener's. */
    public static final List<CommitStep> END = List.of(EXPORT, SUMMARY);

    private final String words;

    CommitStep(String words) {
        this.words = words;
    }

    /** The step in words, as messages name it ("commit state"). */
    @Override
    public String toString() {
        return words;
    }
}
