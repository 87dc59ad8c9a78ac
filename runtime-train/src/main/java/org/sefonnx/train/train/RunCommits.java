package org.sefonnx.train.train;

import org.sefonnx.contract.AtomicFiles;
import org.sefonnx.generator.artifacts.CheckpointReader;
import org.sefonnx.train.ort.OrtAdapter;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The commit sequence of a run. After each epoch: save the epoch's checkpoint (a new file, referenced by nothing yet),
 * flush and hash it, commit the run state (the one atomic step that moves the run forward), then write what derives
 * from the state (metrics files and plots, confusion-best.csv) and delete checkpoints the state no longer names. A
 * kill before the state commit leaves the previous state whole (the new checkpoint is an orphan, deleted on resume);
 * a kill after it leaves derived files behind the state, and resume rewrites them. At most three checkpoints exist at
 * once (last, best, the one being written), two between epochs. The state is flushed to disk, the checkpoints are
 * not (a flush of 200 MB per epoch buys nothing against a kill): after a power loss a checkpoint the state names may
 * be incomplete, and its SHA-256 check then refuses it, naming the fallback.
 */
final class RunCommits {
    /** Called before every file operation of the sequence; fault-injection tests throw from it to simulate a kill there. */
    interface Hook {
        Hook NONE = step -> {};

        void before(String step) throws IOException;
    }

    /** The steps, in order, as the hook sees them. */
    static final List<String> EPOCH_STEPS = List.of("save checkpoint", "commit state", "write metrics", "write confusion", "prune checkpoints");
    static final List<String> END_STEPS = List.of("export", "summary");

    private final RunDirectory run;
    private final Hook hook;
    private final MetricsLog metrics;

    RunCommits(RunDirectory run, Hook hook) {
        this.run = run;
        this.hook = hook;
        this.metrics = new MetricsLog(run);
    }

    /** Commits epoch {@code epoch} (0-based) whose weights are in {@code session}; returns the new state. */
    RunState commitEpoch(OrtAdapter.Training session, boolean withOptimizerState, RunState state, long globalStep,
                         ConfusionMatrix eval, EpochMetrics row, List<String> classNames) throws IOException {
        hook.before(EPOCH_STEPS.get(0));
        Path checkpoint = run.epochCheckpoint(state.epochsCompleted() + 1);
        session.saveCheckpoint(checkpoint, withOptimizerState);
        byte[] bytes = Files.readAllBytes(checkpoint);
        String nonFinite = CheckpointReader.firstNonFinite(bytes, checkpoint.toString());
        if (nonFinite != null) {
            Files.delete(checkpoint);
            throw new TrainingDivergedException(String.format(Locale.ROOT, "a weight became non-finite (%s) in epoch %d; training stopped and "
                    + "that checkpoint was not kept. The last good checkpoint is %s (after epoch %d). Lower --lr or check the data.",
                    nonFinite, state.epochsCompleted() + 1, run.root().resolve(state.last()), state.epochsCompleted()));
        }
        RunState next = state.next(RunState.relative(run, checkpoint), RunState.sha256(bytes), globalStep, eval, row.toJson());
        hook.before(EPOCH_STEPS.get(1));
        next.commit(run);
        hook.before(EPOCH_STEPS.get(2));
        metrics.write(next.metrics());
        hook.before(EPOCH_STEPS.get(3));
        if (next.bestEpoch() != state.bestEpoch()) writeBestConfusion(next, classNames);
        hook.before(EPOCH_STEPS.get(4));
        prune(next);
        return next;
    }

    /**
     * Brings the run directory in line with a committed {@code state} after a kill: deletes temp files and checkpoints
     * the state does not name, rewrites the metrics files, plots and confusion-best.csv from it.
     */
    void restore(RunState state, List<String> classNames) throws IOException {
        for (Path dir : List.of(run.root(), run.artifacts(), run.checkpoints(), run.plots(), run.export())) AtomicFiles.deleteTemps(dir);
        prune(state);
        metrics.write(state.metrics());
        if (state.best() != null) writeBestConfusion(state, classNames);
    }

    /** Deletes the epoch checkpoints {@code state} does not name; only ever after that state is committed. */
    private void prune(RunState state) throws IOException {
        if (!Files.isDirectory(run.checkpoints())) return;
        List<String> keep = state.referencedCheckpoints();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(run.checkpoints(), "epoch-*.ckpt")) {
            for (Path f : files) if (!keep.contains(RunState.relative(run, f))) Files.deleteIfExists(f);
        }
    }

    private void writeBestConfusion(RunState state, List<String> classNames) throws IOException {
        ConfusionMatrix.fromCountsLine(classNames.size(), state.bestConfusion()).write(run.bestConfusionMatrix(), classNames);
    }

    /** The end of a run: export the best checkpoint, then the summary. */
    Path finish(ExportStep export, SummaryStep summary) throws IOException {
        hook.before(END_STEPS.get(0));
        Path dir = export.run();
        hook.before(END_STEPS.get(1));
        summary.run(dir);
        return dir;
    }

    /** Writes the export; returns its directory. */
    interface ExportStep {
        Path run() throws IOException;
    }

    /** Writes summary.txt naming the export. */
    interface SummaryStep {
        void run(Path export) throws IOException;
    }
}
