package org.sefonnx.train.run;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import org.sefonnx.train.run.explain.RunReport;
import org.sefonnx.train.run.listener.TrainingListener;
import org.sefonnx.train.run.loop.EpochLoop;
import org.sefonnx.train.run.metrics.EpochMetrics;
import org.sefonnx.train.run.options.Protocol;
import org.sefonnx.train.run.options.TrainOptions;
import org.sefonnx.train.run.report.Console;
import org.sefonnx.train.run.state.RunCommits;
import org.sefonnx.train.run.state.RunDirectory;
import org.sefonnx.train.run.state.RunState;

/**
 * SEF training on ORT's training API: epochs of TrainStep/OptimizerStep with StepLR, a test pass after every epoch
 * (top-1, mean per-class accuracy, confusion matrix, best-epoch tracking as the authors report), a checkpoint after
 * every epoch (atomic), metrics and plots, the inference export and the report at the end. A killed run resumes from
 * its last checkpoint and ends with the same weights as an uninterrupted one: the data order and augmentation depend
 * only on (seed, epoch), and momentum and BatchNorm statistics live in the checkpoint.
 *
 * <p>The parts, in the spirit of DJL's EasyTrain and its listeners: the epoch loop ({@code loop}), the run's committed
 * state ({@code state}), the listeners that act at every batch, epoch and the run's end ({@code listener},
 * {@code report}, the export's and the report's own), the session bound through the model descriptor
 * ({@code session}).
 */
public final class Trainer {
    /** What a finished run leaves. */
    public record Result(
            RunDirectory run,
            int epochsCompleted,
            double bestTop1,
            int bestEpoch,
            List<EpochMetrics> metrics,
            Path export) {
        static Result of(EpochLoop.Finished f) {
            RunState s = f.state();
            return new Result(
                    f.dir(),
                    s.epochsCompleted(),
                    s.bestTop1(),
                    s.bestEpoch(),
                    s.metrics(),
                    f.dir().export());
        }
    }

    private final TrainOptions o;
    /** Validation split, selection rule and split-count strictness; the authors' protocol unless given. */
    private final Protocol protocol;

    private final Console console;
    /** Fault-injection seam of the commit sequence (RunCommits.Hook); NONE outside tests. */
    RunCommits.Hook commitHook = RunCommits.Hook.NONE;

    public Trainer(TrainOptions options, PrintStream log) {
        this(options, Protocol.AUTHORS, log);
    }

    /** A trainer that holds out a validation split and picks the best epoch as {@code protocol} says. */
    public Trainer(TrainOptions options, Protocol protocol, PrintStream log) {
        this(options, protocol, Console.of(log));
    }

    /** A trainer whose lines, warnings and clock are {@code console}'s (tests give it a clock of their own). */
    Trainer(TrainOptions options, Protocol protocol, Console console) {
        this.o = options;
        this.protocol = protocol;
        this.console = console;
    }

    /**
     * A new run in {@code options.outDir()}. Everything that can be refused (the folder, the data set and every image
     * header, --pretrained, the device) is checked before the first file is written, and a start that fails before
     * training begins removes what it wrote.
     */
    public Result train() throws IOException {
        return Result.of(EpochLoop.train(o, protocol, console, commitHook, report(o.outDir(), console.log())));
    }

    /**
     * Continues the run in {@code runDir} from its committed state; {@code epochs} may extend the run (null keeps it).
     * The state's checkpoints are verified (SHA-256, finite values) and the files derived from it rebuilt first.
     */
    public static Result resume(Path runDir, Integer epochs, PrintStream log) throws IOException {
        return resume(runDir, epochs, false, null, log, RunCommits.Hook.NONE);
    }

    /** {@link #resume(Path, Integer, PrintStream)}; {@code fromBest} first rolls the state back to the best epoch. */
    public static Result resume(Path runDir, Integer epochs, boolean fromBest, PrintStream log) throws IOException {
        return resume(runDir, epochs, fromBest, null, log, RunCommits.Hook.NONE);
    }

    /** {@link #resume(Path, Integer, boolean, PrintStream)} that refuses a run made under another protocol than {@code requested} (null: any). */
    public static Result resume(Path runDir, Integer epochs, boolean fromBest, Protocol requested, PrintStream log)
            throws IOException {
        return resume(runDir, epochs, fromBest, requested, log, RunCommits.Hook.NONE);
    }

    static Result resume(Path runDir, Integer epochs, boolean fromBest, PrintStream log, RunCommits.Hook hook)
            throws IOException {
        return resume(runDir, epochs, fromBest, null, log, hook);
    }

    private static Result resume(
            Path runDir, Integer epochs, boolean fromBest, Protocol requested, PrintStream log, RunCommits.Hook hook)
            throws IOException {
        Console console = Console.of(log);
        return Result.of(
                EpochLoop.resume(runDir, epochs, fromBest, requested, console, hook, report(runDir, console.log())));
    }

    /** What ends every run once its session is closed: report.html and the explain pass it shows. */
    private static List<TrainingListener> report(Path runDir, PrintStream log) {
        return List.of(RunReport.listener(new RunDirectory(runDir), log));
    }
}
