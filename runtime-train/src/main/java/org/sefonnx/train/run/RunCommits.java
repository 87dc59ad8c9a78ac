package org.sefonnx.train.run;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.sefonnx.contract.AtomicFiles;
import org.sefonnx.generator.artifacts.CheckpointReader;
import org.sefonnx.train.ort.OrtAdapter;

/**
 * The commit sequence of a run. After each epoch: save the epoch's checkpoint (a new file, referenced by nothing yet),
 * flush and hash it, commit the run state (the one atomic step that moves the run forward), then the listeners write
 * what derives from the state (metrics files and plots, confusion-best.csv) and this class's {@link #pruning} listener
 * deletes checkpoints the state no longer names. A kill before the state commit leaves the previous state whole (the
 * new checkpoint is an orphan, deleted on resume); a kill after it leaves derived files behind the state, and resume
 * rewrites them. The initial checkpoint is deleted with the first pruning (unless --keep-initial-checkpoint). At most
 * three checkpoints exist at once (last, best, the one being written), two between epochs. The
 * state is flushed to disk, the checkpoints are not (a flush of 200 MB per epoch buys nothing against a kill): after a
 * power loss a checkpoint the state names may be incomplete, and its SHA-256 check then refuses it, naming the fallback.
 */
final class RunCommits {
    /** Called before every file operation of the sequence; fault-injection tests throw from it to simulate a kill there. */
    interface Hook {
        Hook NONE = step -> {};

        void before(String step) throws IOException;
    }

    static final String SAVE_CHECKPOINT = "save checkpoint",
            COMMIT_STATE = "commit state",
            WRITE_METRICS = "write metrics",
            WRITE_CONFUSION = "write confusion",
            PRUNE_CHECKPOINTS = "prune checkpoints",
            EXPORT = "export",
            SUMMARY = "summary";
    /** The steps, in order, as the hook sees them: the first two here, the rest the listeners' {@code epochStep}s. */
    static final List<String> EPOCH_STEPS =
            List.of(SAVE_CHECKPOINT, COMMIT_STATE, WRITE_METRICS, WRITE_CONFUSION, PRUNE_CHECKPOINTS);
    /** The end of a run: export the best checkpoint, then the summary (the listeners' {@code endStep}s). */
    static final List<String> END_STEPS = List.of(EXPORT, SUMMARY);

    private final RunDirectory run;
    private final Hook hook;
    /** --keep-initial-checkpoint: artifacts/checkpoint stays after epoch 1 (else pruning deletes it then). */
    private final boolean keepInitialCheckpoint;

    RunCommits(RunDirectory run, Hook hook, boolean keepInitialCheckpoint) {
        this.run = run;
        this.hook = hook;
        this.keepInitialCheckpoint = keepInitialCheckpoint;
    }

    Hook hook() {
        return hook;
    }

    /**
     * Saves and commits epoch {@code state.epochsCompleted() + 1} whose weights are in {@code session}: the checkpoint,
     * refused when a weight is non-finite, then the run state naming it. Returns the committed state.
     */
    RunState commitEpoch(
            OrtAdapter.Training session,
            boolean withOptimizerState,
            RunState state,
            long globalStep,
            ConfusionMatrix selected,
            EpochMetrics row)
            throws IOException {
        hook.before(SAVE_CHECKPOINT);
        Path checkpoint = run.epochCheckpoint(state.epochsCompleted() + 1);
        session.saveCheckpoint(checkpoint, withOptimizerState);
        byte[] bytes = Files.readAllBytes(checkpoint);
        String nonFinite = CheckpointReader.firstNonFinite(bytes, checkpoint.toString());
        if (nonFinite != null) {
            Files.delete(checkpoint);
            throw new TrainingDivergedException(String.format(
                    Locale.ROOT,
                    "a weight became non-finite (%s) in epoch %d; training stopped and "
                            + "that checkpoint was not kept. The last good checkpoint is %s (after epoch %d). Lower --lr or check the data.",
                    nonFinite,
                    state.epochsCompleted() + 1,
                    run.root().resolve(state.last()),
                    state.epochsCompleted()));
        }
        RunState next = state.next(
                RunState.relative(run, checkpoint), RunState.sha256(bytes), globalStep, selected, row.toJson());
        hook.before(COMMIT_STATE);
        next.commit(run);
        return next;
    }

    /**
     * Brings the run directory in line with a committed {@code state} after a kill: deletes temp files and checkpoints
     * the state does not name (the listeners' {@code runStarting} then rewrite the derived files).
     */
    void restore(RunState state) throws IOException {
        for (Path dir : List.of(run.root(), run.artifacts(), run.checkpoints(), run.plots(), run.export()))
            AtomicFiles.deleteTemps(dir);
        UnfinishedStart.unmark(run); // a kill between the first state commit and the marker's removal left it
        prune(state);
    }

    /** The last step of an epoch's commit: the epoch checkpoints the new state no longer names are deleted. */
    TrainingListener pruning() {
        return new TrainingListener() {
            @Override
            public String epochStep() {
                return PRUNE_CHECKPOINTS;
            }

            @Override
            public void epochCommitted(EpochEnd end) throws IOException {
                prune(end.state());
            }
        };
    }

    /**
     * Deletes the epoch checkpoints {@code state} does not name, and from epoch 1 on the initial checkpoint (a
     * checkpoint's size that nothing reads once an epoch is committed: resume, --from-best, eval and export start from
     * epoch checkpoints); only ever after that state is committed.
     */
    private void prune(RunState state) throws IOException {
        if (state.epochsCompleted() > 0 && !keepInitialCheckpoint) Files.deleteIfExists(run.initialCheckpoint());
        if (!Files.isDirectory(run.checkpoints())) return;
        List<String> keep = state.referencedCheckpoints();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(run.checkpoints(), "epoch-*.ckpt")) {
            for (Path f : files) if (!keep.contains(RunState.relative(run, f))) Files.deleteIfExists(f);
        }
    }
}
