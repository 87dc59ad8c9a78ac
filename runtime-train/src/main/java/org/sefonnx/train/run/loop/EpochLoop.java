package org.sefonnx.train.run.loop;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.sefonnx.contract.LabelFile;
import org.sefonnx.contract.ModelDescriptor;
import org.sefonnx.generator.artifacts.CheckpointReader;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.train.data.BatchLoader;
import org.sefonnx.train.data.CheckedData;
import org.sefonnx.train.data.LoaderOptions;
import org.sefonnx.train.data.Sample;
import org.sefonnx.train.data.ValidationSplit;
import org.sefonnx.train.ort.OrtAdapter;
import org.sefonnx.train.run.evaluation.Evaluator;
import org.sefonnx.train.run.export.Exporter;
import org.sefonnx.train.run.listener.CheckpointPruning;
import org.sefonnx.train.run.listener.DivergenceCheck;
import org.sefonnx.train.run.listener.LossScaling;
import org.sefonnx.train.run.listener.TrainingListener;
import org.sefonnx.train.run.listener.TrainingListeners;
import org.sefonnx.train.run.metrics.ConfusionMatrix;
import org.sefonnx.train.run.metrics.EpochMetrics;
import org.sefonnx.train.run.metrics.Evaluation;
import org.sefonnx.train.run.options.Protocol;
import org.sefonnx.train.run.options.TrainOptions;
import org.sefonnx.train.run.report.BestConfusion;
import org.sefonnx.train.run.report.Console;
import org.sefonnx.train.run.report.ConsoleLog;
import org.sefonnx.train.run.report.GroupMetricsLog;
import org.sefonnx.train.run.report.MetricsLog;
import org.sefonnx.train.run.report.RunEstimate;
import org.sefonnx.train.run.report.RunSummary;
import org.sefonnx.train.run.report.TrainingProgress;
import org.sefonnx.train.run.session.ModelSteps;
import org.sefonnx.train.run.session.Sessions;
import org.sefonnx.train.run.state.RunCommits;
import org.sefonnx.train.run.state.RunDirectory;
import org.sefonnx.train.run.state.RunState;

/**
 * The epoch loop of a run, new or resumed: opens the loaders and the training session, then per epoch trains
 * ({@link TrainPass}), evaluates on test and validation ({@link Evaluator}), tracks the best epoch on the selecting
 * split, commits the epoch ({@link RunCommits}) and tells the {@link #listeners}; at the end the listeners export and
 * summarise, and those the caller adds (the report) follow.
 */
public final class EpochLoop {
    /** A run whose every epoch is committed: its folder and its final state. */
    public record Finished(RunDirectory dir, RunState state) {}

    private final RunSetup.Prepared run;
    private final TrainOptions o;
    private final Protocol protocol;
    private final ModelDescriptor d;
    private final Console console;
    private final RunCommits commits;
    /** Listeners of the caller's, after the loop's own: what acts once the run is closed (the report). */
    private final List<TrainingListener> closing;
    /** Set once the training session is open: a failure before that is a failed start and leaves nothing behind. */
    private boolean started;

    private EpochLoop(RunSetup.Prepared run, Console console, RunCommits.Hook hook, List<TrainingListener> closing) {
        this.run = run;
        this.o = run.options();
        this.protocol = run.protocol();
        this.d = run.descriptor();
        this.console = console;
        this.commits = new RunCommits(run.dir(), hook, o.keepInitialCheckpoint());
        this.closing = List.copyOf(closing);
    }

    /**
     * A new run in {@code options.outDir()}. Everything that can be refused (the folder, the data set and every image
     * header, --pretrained, the device) is checked before the first file is written, and a start that fails before
     * training begins removes what it wrote.
     */
    public static Finished train(
            TrainOptions options,
            Protocol protocol,
            Console console,
            RunCommits.Hook hook,
            List<TrainingListener> closing)
            throws IOException {
        RunSetup.NewRun start = new RunSetup.NewRun(options, protocol, console);
        EpochLoop loop = null;
        try {
            loop = new EpochLoop(start.write(), console, hook, closing);
            return loop.run();
        } catch (IOException | RuntimeException | Error e) {
            if (loop == null || !loop.started) start.removeFailedStart(e);
            throw e;
        }
    }

    /**
     * Continues the run in {@code runDir} from its committed state ({@link RunSetup#resume}): {@code epochs} may extend
     * it (null keeps it), {@code fromBest} first rolls it back to the best epoch, {@code requested} (null: any) must be
     * the protocol it was made under.
     */
    public static Finished resume(
            Path runDir,
            Integer epochs,
            boolean fromBest,
            Protocol requested,
            Console console,
            RunCommits.Hook hook,
            List<TrainingListener> closing)
            throws IOException {
        return new EpochLoop(RunSetup.resume(runDir, epochs, fromBest, requested, console), console, hook, closing)
                .run();
    }

    /**
     * Every concern that acts at the loop's fixed points, in the order they run. The writers among them keep the
     * kill-safe commit order (TrainingListeners refuses another): metrics, best confusion, pruning; export, summary.
     * Of the batch listeners, the loss scaling decides on a step before the divergence check sees its loss, and the
     * estimate prints before the progress line redraws.
     */
    private List<TrainingListener> listeners(
            List<String> classNames,
            LossScaling lossScaling,
            String heldOut,
            OrtAdapter.Device device,
            int trainImages,
            int evalImages) {
        PrintStream log = console.log();
        List<TrainingListener> all = new ArrayList<>(List.of(
                new MetricsLog(run.dir()),
                new BestConfusion(run.dir(), classNames),
                new CheckpointPruning(commits),
                new ConsoleLog(log, protocol),
                new GroupMetricsLog(log)));
        if (lossScaling != null) all.add(lossScaling);
        all.addAll(List.of(
                new DivergenceCheck(run.dir()),
                new RunEstimate(console, o.schedule(), trainImages, evalImages, device),
                new TrainingProgress(console, o.schedule().epochs()),
                Exporter.listener(run.dir(), d, o, classNames, log),
                new RunSummary(run.dir(), protocol, heldOut)));
        all.addAll(closing);
        return all;
    }

    private Finished run() throws IOException {
        List<Sample> validation = ValidationSplit.checked(run.data(), run.validation());
        CheckedData data = ValidationSplit.withoutValidation(run.data(), run.validation());
        List<String> classNames = o.data().classNames(data.dataset());
        LabelFile.write(run.dir().labels(), classNames);
        console.log()
                .println("data: " + data.dataset().description() + ": "
                        + data.train().size() + " train / "
                        + (validation.isEmpty() ? "" : validation.size() + " validation / ")
                        + data.test().size() + " test images, "
                        + data.dataset().classCount() + " classes; " + protocol.describe());
        String heldOut = validation.isEmpty() ? null : heldOut(data, validation);
        Path startCheckpoint = run.dir().root().resolve(run.state().last());
        // mixed precision: GradScaler state from the checkpoint (absent in a new run), fed scale, skipped steps
        LossScaling lossScaling = LossScaling.of(d, CheckpointReader.readHeader(startCheckpoint), console.log())
                .orElse(null);
        int badBudget = o.badImages().max() - data.badImages().size();
        RunState state = run.state();
        TrainingListeners listeners;
        try (OrtAdapter ort = OrtAdapter.create("sef-onnx");
                BatchLoader trainLoader = loader(data.train(), true, badBudget);
                BatchLoader testLoader = loader(data.test(), false, badBudget);
                // null without a validation split: try-with-resources skips closing it
                BatchLoader valLoader = validation.isEmpty() ? null : loader(validation, false, badBudget);
                OrtAdapter.Training session = Sessions.open(
                        ort,
                        d,
                        run.dir().artifacts(),
                        startCheckpoint,
                        o.compute().device(),
                        o.compute().intraOpThreads(),
                        o.compute().cuda(),
                        console.log())) {
            started = true;
            listeners = new TrainingListeners(
                    listeners(
                            classNames,
                            lossScaling,
                            heldOut,
                            session.device(),
                            data.train().size(),
                            data.test().size() + validation.size()),
                    commits.hook());
            commits.restore(state);
            listeners.runStarting(state);
            ModelSteps steps = new ModelSteps(d, session);
            TrainPass train = new TrainPass(
                    session, steps, trainLoader, data.train().size(), o.schedule(), listeners, console.nanoClock());
            for (int epoch = state.epochsCompleted(); epoch < o.schedule().epochs(); epoch++) {
                TrainPass.Trained trained = train.run(epoch, state.globalStep());
                Evaluation test = Evaluator.evaluate(steps, d, testLoader, console, label(epoch, "test "));
                requireBoundedSkips(data, trainLoader, testLoader, test.confusion());
                Evaluation val = valLoader == null
                        ? null
                        : Evaluator.evaluate(steps, d, valLoader, console, label(epoch, "val  "));
                state = commit(session, listeners, epoch, state, trained, test, val);
            }
            Map<String, String> skipped = new TreeMap<>(data.badImages());
            skipped.putAll(trainLoader.skippedReasons());
            skipped.putAll(testLoader.skippedReasons());
            listeners.runFinished(new TrainingListener.RunEnd(state, skipped, ort));
        }
        listeners.runClosed(state);
        return new Finished(run.dir(), state);
    }

    /**
     * Epoch {@code epoch}'s metrics row with the best epoch so far on the selecting split, its checkpoint and run state
     * committed, then the listeners told. Returns the committed state.
     */
    private RunState commit(
            OrtAdapter.Training session,
            TrainingListeners listeners,
            int epoch,
            RunState state,
            TrainPass.Trained trained,
            Evaluation test,
            Evaluation val)
            throws IOException {
        // the run state keeps the selecting split's integer counts: with --select-on val the validation pass's
        ConfusionMatrix selected = protocol.selecting(test, val).confusion();
        boolean best = state.isBetter(selected.correct(), selected.total());
        EpochMetrics.Builder row = EpochMetrics.builder(epoch)
                .learningRate(o.schedule().learningRateAt(epoch))
                .losses(trained.terms(), test.terms())
                .testAccuracy(test.confusion().top1(), test.confusion().meanClassAccuracy())
                .speed(
                        trained.imagesPerSecond(),
                        trained.seconds() + test.seconds() + (val == null ? 0 : val.seconds()))
                .best(best ? selected.top1() : state.bestTop1(), best ? epoch : state.bestEpoch(), protocol.selectOn())
                .globalStep(trained.globalStep())
                .groups(test.groups());
        if (val != null)
            row.validationAccuracy(val.confusion().top1(), val.confusion().meanClassAccuracy());
        EpochMetrics m = row.build();
        // SGD's state is the momentum buffers, frozen tensors of the model itself: ORT's optimizer moments would only
        // add a third copy of the weights' size (AdamW keeps its moments there and needs them)
        boolean withOptimizerState = o.spec().optimizer() == ModelSpec.Optimizer.ADAMW;
        RunState next = commits.commitEpoch(
                session, withOptimizerState, state, trained.globalStep(), selected, m, listeners::beforeCheckpoint);
        listeners.epochCommitted(
                new TrainingListener.EpochEnd(epoch, o.schedule().epochs(), m, state, next, test, val));
        return next;
    }

    /**
     * What the validation split holds out, in words; a warning when per-class rounding moved the fraction materially
     * from --val-fraction (2 images a class at 0.99 hold out 1 of 2).
     */
    private String heldOut(CheckedData train, List<Sample> validation) {
        int before = train.train().size() + validation.size();
        double asked = protocol.valSplit() == Protocol.ValSplit.FRACTION ? protocol.valFraction() : Double.NaN;
        String held = ValidationSplit.heldOut(validation.size(), before);
        ValidationSplit.fractionChanged(validation.size(), before, asked)
                .ifPresent(change -> console.warn(held + ", " + change));
        return held;
    }

    private String label(int epoch, String pass) {
        return String.format(
                Locale.ROOT, "epoch %d/%d %s", epoch + 1, o.schedule().epochs(), pass);
    }

    private BatchLoader loader(List<Sample> samples, boolean training, int badBudget) {
        int batchSize = o.schedule().batchSize();
        LoaderOptions options =
                training ? LoaderOptions.training(batchSize, o.seed()) : LoaderOptions.evaluation(batchSize);
        return new BatchLoader(
                samples,
                o.transform(training),
                options.withWorkers(o.compute().decodeWorkers())
                        .withSkipBadImages(o.badImages().skip())
                        .withMaxBadImages(badBudget)
                        .withExifOrientation(o.data().applyExifOrientation()));
    }

    /** --max-bad-images over the whole run, and no test pass that scored nothing (top-1 would be NaN). */
    private void requireBoundedSkips(CheckedData data, BatchLoader train, BatchLoader test, ConfusionMatrix eval) {
        int bad = data.badImages().size()
                + train.skippedSources().size()
                + test.skippedSources().size();
        if (bad > o.badImages().max()) {
            throw new IllegalStateException(bad + " bad images were skipped, more than --max-bad-images "
                    + o.badImages().max() + ": the data set looks broken ("
                    + String.join("; ", test.skippedReasons().values()) + "); fix it or raise the bound");
        }
        if (eval.total() == 0) {
            throw new IllegalStateException(
                    "the test pass scored no image: all " + data.test().size() + " test images were skipped as bad");
        }
    }
}
