package org.sefonnx.train.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.contract.AtomicFiles;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.generator.artifacts.Checkpoint;
import org.sefonnx.generator.artifacts.CheckpointReader;
import org.sefonnx.generator.artifacts.CheckpointWriter;
import org.sefonnx.train.run.metrics.ConfusionMatrix;
import org.sefonnx.train.run.metrics.EpochMetrics;
import org.sefonnx.train.run.options.Protocol;
import org.sefonnx.train.run.options.TrainOptions;
import org.sefonnx.train.run.state.CommitStep;
import org.sefonnx.train.run.state.InvalidRunException;
import org.sefonnx.train.run.state.RunCommits;
import org.sefonnx.train.run.state.RunDirectory;
import org.sefonnx.train.run.state.RunState;

/**
 * Fault injection on the commit sequence: a run of two short epochs is "killed" (the hook throws) before each file
 * operation of the second epoch's commit and of the run's end, then resumed; every time the final run state,
 * checkpoints and export must equal an uninterrupted run's.
 */
class KillAtEveryCommitStepTest {
    @TempDir
    static Path shared;

    static Path data;
    /** After epoch 1 of 2: the starting point every kill copies. */
    static Path afterEpochOne;

    static RunState reference;
    static String referenceExportSha;
    static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    /** Two batches per epoch keep the ~10 resumes of this class fast. */
    static TrainOptions options(Path out, int epochs) {
        return SmallRun.options(data, out, epochs, 0.02).toBuilder()
                .maxBatchesPerEpoch(2)
                .build();
    }

    /** Simulates a kill before {@code step}: a killed writer may also leave its temp file behind. */
    static final class Kill extends RuntimeException {
        Kill(CommitStep step) {
            super("killed before " + step);
        }
    }

    @BeforeAll
    static void runs() throws Exception {
        data = SmallRun.data(shared);
        Trainer.Result full = new Trainer(options(shared.resolve("uninterrupted"), 2), QUIET).train();
        reference = RunState.read(full.run());
        referenceExportSha = RunState.sha256(full.export().resolve(ExportLayout.MODEL));
        afterEpochOne = shared.resolve("one");
        new Trainer(options(afterEpochOne, 1), QUIET).train();
    }

    @Test
    void aKillBeforeAnyFileOperationOfTheCommitResumesToTheUninterruptedResult(@TempDir Path dir) throws Exception {
        // chains of kills: each resume is killed one step later than the last (so every kill point is also resumed
        // from), and a new copy starts when the next step belongs to an epoch commit the chain has already passed
        List<CommitStep> steps = new ArrayList<>(CommitStep.EPOCH);
        steps.addAll(CommitStep.END);
        RunState afterOne = RunState.read(new RunDirectory(afterEpochOne));
        Path run = null;
        int chains = 0;
        for (CommitStep step : steps) {
            if (run == null
                    || (CommitStep.EPOCH.contains(step)
                            && RunState.read(new RunDirectory(run)).epochsCompleted() == 2)) {
                if (run != null) assertResumesToTheUninterruptedResult(run);
                run = copyRun(afterEpochOne, dir.resolve("chain-" + chains++));
            }
            Path killedRun = run;
            RunCommits.Hook kill = s -> {
                if (!s.equals(step)) return;
                // what a kill -9 inside ORT's SaveCheckpoint or an atomic write leaves: a half-written temp file
                Files.writeString(killedRun.resolve("checkpoints/.epoch-0002.ckpt.tmp"), "half a checkpoint");
                Files.writeString(killedRun.resolve(".metrics.jsonl.1f2e.tmp"), "{\"epoch\": ");
                throw new Kill(s);
            };
            assertThrows(Kill.class, () -> Trainer.resume(killedRun, 2, false, QUIET, kill), step.toString());
            // before the state commit the run is still after epoch 1; from it on, exactly the uninterrupted epoch 2
            int at = steps.indexOf(step);
            assertSameCommittedState(
                    at <= 1 ? afterOne : reference, RunState.read(new RunDirectory(run)), "killed before " + step);
        }
        assertResumesToTheUninterruptedResult(run);
        assertEquals(3, chains);
    }

    private static void assertResumesToTheUninterruptedResult(Path run) throws IOException {
        Trainer.Result resumed = Trainer.resume(run, 2, QUIET);
        assertSameCommittedState(reference, RunState.read(resumed.run()), run + " resumed");
        assertEquals(referenceExportSha, RunState.sha256(resumed.export().resolve(ExportLayout.MODEL)), "export");
        List<String> kept = new ArrayList<>(List.of("state.properties"));
        for (String c : reference.referencedCheckpoints())
            kept.add(Path.of(c).getFileName().toString());
        assertEquals(kept.stream().sorted().toList(), listing(run.resolve("checkpoints")), "checkpoints kept");
        assertFalse(Files.exists(run.resolve("artifacts/checkpoint")), "the initial checkpoint is gone after epoch 1");
        assertEquals(3, Files.readAllLines(run.resolve("metrics.csv")).size(), "header + 2 epochs");
        assertEquals(11, Files.readAllLines(run.resolve("confusion-best.csv")).size(), "header + 10 classes");
        assertTrue(Files.readString(run.resolve("summary.txt")).contains("at epoch " + (reference.bestEpoch() + 1)));
        try (Stream<Path> all = Files.walk(run)) {
            assertEquals(List.of(), all.filter(AtomicFiles::isTemp).toList(), "temp files left");
        }
    }

    @Test
    void aKillDuringTheFirstEpochResumesFromTheInitialCheckpoint(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("first");
        Trainer first = new Trainer(options(run, 2), QUIET);
        first.commitHook = s -> {
            if (s == CommitStep.COMMIT_STATE) throw new Kill(s);
        };
        assertThrows(Kill.class, first::train);
        assertEquals(
                0,
                RunState.read(new RunDirectory(run)).epochsCompleted(),
                "the run state written before epoch 1 survives");
        assertTrue(Files.exists(run.resolve("artifacts/checkpoint")), "the state before epoch 1 names it");
        Trainer.Result resumed = Trainer.resume(run, null, QUIET);
        assertSameCommittedState(reference, RunState.read(resumed.run()), "first epoch");
    }

    @Test
    void aStartKilledBeforeItsFirstRunStateIsBegunAgainByTheSameCommand(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("start");
        Trainer first = new Trainer(options(run, 2), QUIET);
        first.commitHook = s -> {
            throw new Kill(s);
        };
        assertThrows(Kill.class, first::train);
        // what a kill -9 just before the first state commit leaves: the start's marker, its files, a writer's temp file
        Files.delete(run.resolve("checkpoints/state.properties"));
        Files.writeString(run.resolve(".sef-onnx-start"), "");
        Files.writeString(run.resolve(".run.properties.5e2a.tmp"), "epochs=");
        byte[] initial = Files.readAllBytes(run.resolve("artifacts/checkpoint"));
        replace(run.resolve("artifacts/checkpoint"), java.util.Arrays.copyOf(initial, initial.length / 2));

        // --resume cannot continue it, and says what will
        InvalidRunException notARun = assertThrows(InvalidRunException.class, () -> Trainer.resume(run, 2, QUIET));
        assertTrue(notARun.getMessage().contains("run the same `sef-onnx train --out " + run), notARun.getMessage());
        // a file the start did not write is never deleted: the start is refused, naming it
        Files.writeString(run.resolve("notes.txt"), "mine");
        IllegalArgumentException foreign =
                assertThrows(IllegalArgumentException.class, () -> new Trainer(options(run, 2), QUIET).train());
        assertTrue(
                foreign.getMessage().contains("and also notes.txt, which sef-onnx did not write; nothing was deleted"),
                foreign.getMessage());
        assertTrue(Files.exists(run.resolve("artifacts/checkpoint")));
        Files.delete(run.resolve("notes.txt"));

        Trainer.Result again = new Trainer(options(run, 2), QUIET).train();
        assertSameCommittedState(reference, RunState.read(again.run()), "started again");
        assertEquals(referenceExportSha, RunState.sha256(again.export().resolve(ExportLayout.MODEL)), "export");
        assertFalse(Files.exists(run.resolve(".sef-onnx-start")), "the marker goes with the first state commit");
        try (Stream<Path> all = Files.walk(run)) {
            assertEquals(List.of(), all.filter(AtomicFiles::isTemp).toList(), "temp files left");
        }
    }

    @Test
    void damagedCheckpointsAreRefusedNamingTheFileAndTheFallback(@TempDir Path dir) throws Exception {
        // flipped bytes inside tensor data: the hash no longer matches
        Path flipped = copyRun(shared.resolve("uninterrupted"), dir.resolve("flipped"));
        Path last = flipped.resolve("checkpoints/epoch-0002.ckpt");
        byte[] bytes = Files.readAllBytes(last);
        for (int i = bytes.length / 2; i < bytes.length / 2 + 16; i++) bytes[i] ^= 0x5A;
        replace(last, bytes);
        boolean bestIsLast = reference.best().equals(reference.last());
        InvalidRunException e = assertThrows(InvalidRunException.class, () -> Trainer.resume(flipped, 3, QUIET));
        assertTrue(e.getMessage().startsWith(last + " (the last checkpoint, epoch 2) has SHA-256 "), e.getMessage());
        assertTrue(
                e.getMessage().contains(bestIsLast ? "No verified checkpoint is left" : "--from-best"), e.getMessage());

        // a NaN weight in a checkpoint whose hash was recorded (as a diverged step would have written it)
        Path nan = copyRun(shared.resolve("uninterrupted"), dir.resolve("nan"));
        RunDirectory nanRun = new RunDirectory(nan);
        RunState state = RunState.read(nanRun);
        Path nanFile = nan.resolve(state.last());
        Checkpoint ck = CheckpointReader.read(nanFile);
        ck.trainable().get(3).data()[5] = Float.NaN;
        CheckpointWriter.write(ck, nanFile);
        new RunState(
                        state.epochsCompleted(),
                        state.globalStep(),
                        state.last(),
                        RunState.sha256(nanFile),
                        state.bestEpoch(),
                        state.best(),
                        state.best().equals(state.last()) ? RunState.sha256(nanFile) : state.bestSha256(),
                        state.bestCorrect(),
                        state.bestTotal(),
                        state.bestConfusion(),
                        state.metricsRows())
                .commit(nanRun);
        e = assertThrows(InvalidRunException.class, () -> Trainer.resume(nan, 3, QUIET));
        assertTrue(
                e.getMessage()
                        .contains(nanFile + " (the last checkpoint, epoch 2) holds a non-finite value at "
                                + ck.trainable().get(3).name() + "[5]"),
                e.getMessage());

        // truncated: the file is named, and the CLI calls it bad input
        Path cut = copyRun(shared.resolve("uninterrupted"), dir.resolve("cut"));
        Path cutFile = cut.resolve(reference.best());
        byte[] whole = Files.readAllBytes(cutFile);
        replace(cutFile, java.util.Arrays.copyOf(whole, whole.length / 3));
        String[] cli = org.sefonnx.train.cli.SefOnnxCliTest.run("eval", "--run", cut.toString());
        assertEquals("2", cli[0], cli[2]);
        assertTrue(
                cli[2].contains(cutFile + " (the best checkpoint, epoch " + (reference.bestEpoch() + 1) + ")"), cli[2]);
        assertTrue(cli[2].contains("truncated"), cli[2]);
    }

    @Test
    void resumingFromTheBestCheckpointRetrainsTheEpochsAfterIt(@TempDir Path dir) throws Exception {
        // epoch 1 best, epoch 2 not: rolling back to the best must retrain epoch 2 to the same result
        Path run = copyRun(shared.resolve("uninterrupted"), dir.resolve("rollback"));
        RunDirectory r = new RunDirectory(run);
        RunState rolled = RunState.read(r).rolledBackToBest();
        assertEquals(reference.bestEpoch() + 1, rolled.epochsCompleted());
        assertEquals(reference.bestSha256(), rolled.lastSha256());
        Trainer.Result again = Trainer.resume(run, 2, true, QUIET);
        assertSameCommittedState(reference, RunState.read(again.run()), "from best");
    }

    @Test
    void equalAccuracyKeepsTheEarlierEpochAsBest() {
        RunState sevenOfTen = new RunState(
                1,
                5,
                "checkpoints/epoch-0001.ckpt",
                "a",
                0,
                "checkpoints/epoch-0001.ckpt",
                "a",
                7,
                10,
                "7,3,0,0",
                List.of(row(0)));
        // (float) 0.7 < 0.7: a float best top-1 called this tie a win
        assertTrue((float) 0.7 < 0.7);
        assertFalse(sevenOfTen.isBetter(7, 10));
        assertFalse(sevenOfTen.isBetter(14, 20));
        assertTrue(sevenOfTen.isBetter(8, 10));
        ConfusionMatrix tie = ConfusionMatrix.fromCountsLine(2, "7,3,0,0");
        RunState next = sevenOfTen.next("checkpoints/epoch-0002.ckpt", "b", 10, tie, row(1));
        assertEquals(0, next.bestEpoch());
        assertEquals("checkpoints/epoch-0001.ckpt", next.best());
        assertEquals(
                List.of("checkpoints/epoch-0002.ckpt", "checkpoints/epoch-0001.ckpt"), next.referencedCheckpoints());
    }

    private static String row(int epoch) {
        return EpochMetrics.builder(epoch)
                .learningRate(0.01)
                .losses(new EpochMetrics.LossTerms(1, 1, 0, 0, 0), new EpochMetrics.LossTerms(1, 1, 0, 0, 0))
                .testAccuracy(0.7, 0.7)
                .speed(100, 1)
                .best(0.7, 0, Protocol.SelectOn.TEST)
                .globalStep(5L * (epoch + 1))
                .build()
                .toJson();
    }

    /** Everything committed but the wall-clock fields (img/s, seconds) of the metrics rows. */
    static void assertSameCommittedState(RunState expected, RunState actual, String where) {
        assertEquals(expected.epochsCompleted(), actual.epochsCompleted(), where);
        assertEquals(expected.globalStep(), actual.globalStep(), where);
        assertEquals(expected.last(), actual.last(), where);
        assertEquals(expected.lastSha256(), actual.lastSha256(), where + ": last checkpoint bytes");
        assertEquals(expected.bestEpoch(), actual.bestEpoch(), where);
        assertEquals(expected.best(), actual.best(), where);
        assertEquals(expected.bestSha256(), actual.bestSha256(), where + ": best checkpoint bytes");
        assertEquals(expected.bestCorrect(), actual.bestCorrect(), where);
        assertEquals(expected.bestTotal(), actual.bestTotal(), where);
        assertEquals(expected.bestConfusion(), actual.bestConfusion(), where);
        for (int i = 0; i < expected.epochsCompleted(); i++) {
            EpochMetrics a = expected.metrics().get(i), b = actual.metrics().get(i);
            assertEquals(a.testTop1(), b.testTop1(), where);
            assertEquals(a.train().loss(), b.train().loss(), where);
            assertEquals(a.globalStep(), b.globalStep(), where);
            assertEquals(a.bestEpoch(), b.bestEpoch(), where);
        }
    }

    /**
     * A copy of a run made of hard links: a run never rewrites a file in place (every writer replaces whole files by a
     * rename), so the copies stay independent as long as the tests, too, replace rather than overwrite (see
     * {@link #replace}); this keeps the ~1 GB of checkpoint copies off the disk.
     */
    static Path copyRun(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : files.toList()) {
                Path target = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) Files.createDirectories(target);
                else Files.createLink(target, f);
            }
        }
        return to;
    }

    /** Writes {@code bytes} as a new file in place of {@code file} (never through a hard link shared with another copy). */
    static void replace(Path file, byte[] bytes) throws IOException {
        Files.delete(file);
        Files.write(file, bytes);
    }

    private static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
