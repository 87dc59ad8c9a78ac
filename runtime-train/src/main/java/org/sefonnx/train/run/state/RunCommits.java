package org.sefonnx.train.run.state;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.sefonnx.contract.AtomicFiles;
import org.sefonnx.generator.artifacts.CheckpointReader;
import org.sefonnx.train.ort.OrtAdapter;
import org.sefonnx.train.run.metrics.ConfusionMatrix;
import org.sefonnx.train.run.metrics.EpochMetrics;

/**
 * The commit sequence of a run ({@link CommitStep}). After each epoch: save the epoch's checkpoint (a new file,
 * referenced by nothing yet), flush and hash it, commit the run state (the one atomic step that moves the run forward),
 * then the listeners write what derives from the state (metrics files and plots, confusion-best.csv) and delete the
 * checkpoints the state no longer names ({@link #prune}). A kill before the state commit leaves the previous state
 * whole (the new checkpoint is an orphan, deleted on resume); a kill after it leaves derived files behind the state,
 * and resume rewrites them. The initial checkpoint is deleted with the first pruning (unless
 * --keep-initial-checkpoint). At most three checkpoints exist at once (last, best, the one being written), two between
 * epochs. The state is flushed to disk, the checkpoints are not (a flush of 200 MB per epoch buys nothing against a
 * kill): after a power loss a checkpoint the state names may be incomplete, and its SHA-256 check then refuses it,
 * naming the fallback.
 */
public final class RunCommits {
    /** Called before every file operation of the sequence; fault-injection tests throw from it to simulate a kill there. */
    public interface Hook {
        Hook NONE = step -> {};

        void before(CommitStep step) throws IOException;
    }

    /**
     * Checkpoint property-bag keys the commit writes (besides the generator's model_id/spec/...): for people inspecting
     * a checkpoint, and for the run state's check that a checkpoint is the one it committed; resume reads the run
     * state, never these.
     */
    public static final String PROP_EPOCHS_DONE = "epochs_completed";
    /** Property-bag key of the global step after the checkpoint's epoch. */
    public static final String PROP_GLOBAL_STEP = "global_step";
    /** Property-bag key of the epoch's test top-1. */
    public static final String PROP_TOP1 = "top1";

    private final RunDirectory run;
    private final Hook hook;
    /** --keep-initial-checkpoint: artifacts/checkpoint stays after epoch 1 (else pruning deletes it then). */
    private final boolean keepInitialCheckpoint;

    public RunCommits(RunDirectory run, Hook hook, boolean keepInitialCheckpoint) {
        this.run = run;
        this.hook = hook;
        this.keepInitialCheckpoint = keepInitialCheckpoint;
    }

    public Hook hook() {
        return hook;
    }

    /**
     * Saves and commits epoch {@code state.epochsCompleted() + 1} whose weights are in {@code session}: its progress
     * and then what {@code properties} adds into the checkpoint's property bag, the checkpoint, refused when a weight is
     * non-finite, then the run state naming it. Returns the committed state.
     */
    public RunState commitEpoch(
            OrtAdapter.Training session,
            boolean withOptimizerState,
            RunState state,
            long globalStep,
            ConfusionMatrix selected,
            EpochMetrics row,
            Consumer<OrtAdapter.Training> properties)
            throws IOException {
        session.setIntProperty(PROP_EPOCHS_DONE, state.epochsCompleted() + 1);
        session.setIntProperty(PROP_GLOBAL_STEP, globalStep);
        session.setFloatProperty(PROP_TOP1, (float) row.testTop1());
        properties.accept(session);
        hook.before(CommitStep.SAVE_CHECKPOINT);
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
        hook.before(CommitStep.COMMIT_STATE);
        next.commit(run);
        return next;
    }

    /**
     * Brings the run directory in line with a committed {@code state} after a kill: deletes temp files and checkpoints
     * the state does not name (the listeners' {@code runStarting} then rewrite the derived files).
     */
    public void restore(RunState state) throws IOException {
        for (Path dir : List.of(run.root(), run.artifacts(), run.checkpoints(), run.plots(), run.export()))
            AtomicFiles.deleteTemps(dir);
        UnfinishedStart.unmark(run); // a kill between the first state commit and the marker's removal left it
        prune(state);
    }

    /**
     * Deletes the epoch checkpoints {@code state} does not name, and from epoch 1 on the initial checkpoint (a
     * checkpoint's size that nothing reads once an epoch is committed: resume, --from-best, eval and export start from
     * epoch checkpoints); only ever after that state is committed: the last step of an epoch's commit.
     */
    public void prune(RunState state) throws IOException {
        if (state.epochsCompleted() > 0 && !keepInitialCheckpoint) Files.deleteIfExists(run.initialCheckpoint());
        if (!Files.isDirectory(run.checkpoints())) return;
        List<String> keep = state.referencedCheckpoints();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(run.checkpoints(), "epoch-*.ckpt")) {
            for (Path f : files) if (!keep.contains(RunState.relative(run, f))) Files.deleteIfExists(f);
        }
    }
}
