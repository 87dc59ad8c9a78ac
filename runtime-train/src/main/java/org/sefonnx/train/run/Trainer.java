package org.sefonnx.train.run;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import org.sefonnx.train.data.Layout;
import org.sefonnx.train.data.TransformSpec;

/**
 * SEF training on ORT's training API: epochs of TrainStep/OptimizerStep with StepLR, a test pass after every epoch
 * (top-1, mean per-class accuracy, confusion matrix, best-epoch tracking as the authors report), a checkpoint after
 * every epoch (atomic), metrics and plots, and the inference export at the end. A killed run resumes from its last
 * checkpoint and ends with the same weights as an uninterrupted one: the data order and augmentation depend only on
 * (seed, epoch), and momentum and BatchNorm statistics live in the checkpoint.
 *
 * <p>The parts, in the spirit of DJL's EasyTrain and its listeners: {@link RunSetup} (a new run folder, or a committed
 * run read back), {@link EpochLoop} (train pass, evaluation, best epoch, the commit of {@link RunCommits}) and the
 * {@link TrainingListener}s it calls at each epoch's end and the run's end.
 */
public final class Trainer {
    /**
     * Checkpoint property-bag keys written by the trainer (besides the generator's model_id/spec/...), for people
     * inspecting a checkpoint; resume reads the run state (RunState), never these.
     */
    public static final String PROP_EPOCHS_DONE = "epochs_completed";

    public static final String PROP_GLOBAL_STEP = "global_step";
    public static final String PROP_TOP1 = "top1";

    /** What a finished run leaves. */
    public record Result(
            RunDirectory run,
            int epochsCompleted,
            double bestTop1,
            int bestEpoch,
            List<EpochMetrics> metrics,
            Path export) {}

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
        RunSetup.NewRun start = new RunSetup.NewRun(o, protocol, console);
        EpochLoop loop = null;
        try {
            loop = new EpochLoop(start.write(), console, commitHook);
            return loop.run();
        } catch (IOException | RuntimeException | Error e) {
            if (loop == null || !loop.started()) start.removeFailedStart(e);
            throw e;
        }
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
        return new EpochLoop(RunSetup.resume(runDir, epochs, fromBest, requested, console), console, hook).run();
    }

    /**
     * The authors' transforms (docs/sef-method.md, "Training recipe") at the spec's input size: CUB/Aircraft resize to size·600/448 then
     * crop (random for training, centre for test); Cars/Dogs/ImageFolder resize to the size; flips for training.
     * IDX (the demo) resizes without flips.
     */
    public static TransformSpec transform(Layout layout, int size, boolean training) {
        if (layout == null || layout == Layout.IDX) return TransformSpec.resize(size, false);
        return switch (layout) {
            case CUB, AIRCRAFT -> {
                int resize =
                        Math.round(size * (float) TransformSpec.BIRDS_AIRCRAFT_RESIZE / TransformSpec.NETWORK_INPUT);
                yield TransformSpec.resizeAndCrop(
                        resize, size, training ? TransformSpec.Crop.RANDOM : TransformSpec.Crop.CENTER, training);
            }
            default -> TransformSpec.resize(size, training);
        };
    }
}
