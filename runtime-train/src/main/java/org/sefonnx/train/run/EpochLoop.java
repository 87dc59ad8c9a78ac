package org.sefonnx.train.run;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
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
import org.sefonnx.train.ort.OrtAdapter;

/**
 * The epoch loop of a prepared run: opens the loaders and the training session, then per epoch trains
 * ({@link TrainPass}), evaluates on test and validation ({@link Evaluation}), tracks the best epoch on the selecting
 * split, commits the epoch ({@link RunCommits}) and tells the {@link #listeners}; at the end the listeners export and
 * summarise.
 */
final class EpochLoop {
    private final RunSetup.Prepared run;
    private final TrainOptions o;
    private final Protocol protocol;
    private final ModelDescriptor d;
    private final Console console;
    private final RunCommits commits;
    /** Set once the training session is open: a failure before that is a failed start and leaves nothing behind. */
    private boolean started;

    EpochLoop(RunSetup.Prepared run, Console console, RunCommits.Hook hook) {
        this.run = run;
        this.o = run.options();
        this.protocol = run.protocol();
        this.d = run.descriptor();
        this.console = console;
        this.commits = new RunCommits(run.dir(), hook, o.keepInitialCheckpoint());
    }

    boolean started() {
        return started;
    }

    /**
     * Every concern that acts at the loop's fixed points, in the order they run. The writers among them keep the
     * kill-safe commit order (TrainingListeners refuses another): metrics, best confusion, pruning; export, summary.
     */
    private List<TrainingListener> listeners(
            List<String> classNames, MixedPrecisionSteps mixedPrecision, String heldOut) {
        PrintStream log = console.log();
        return List.of(
                new MetricsLog(run.dir()),
                new BestConfusion(run.dir(), classNames),
                commits.pruning(),
                new ConsoleLog(log, protocol),
                new GroupMetricsLog(log),
                mixedPrecision.epochLog(log),
                RunEndFiles.export(run.dir(), d, o, classNames, log),
                new RunSummary(run.dir(), protocol, heldOut),
                RunEndFiles.report(run.dir(), log));
    }

    Trainer.Result run() throws IOException {
        List<Sample> validation = ValidationSplit.checked(run.data(), run.validation());
        CheckedData data = ValidationSplit.withoutValidation(run.data(), run.validation());
        List<String> classNames = RunData.classNames(o, data.dataset());
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
        MixedPrecisionSteps mixedPrecision = MixedPrecisionSteps.of(d, CheckpointReader.readHeader(startCheckpoint));
        TrainingListeners listeners =
                new TrainingListeners(listeners(classNames, mixedPrecision, heldOut), commits.hook());
        commits.restore(run.state());
        listeners.runStarting(run.state());
        int badBudget = o.maxBadImages() - data.badImages().size();
        RunState state = run.state();
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
                        o.device(),
                        threads(o),
                        o.cuda(),
                        console.log())) {
            started = true;
            ModelSteps steps = new ModelSteps(d, session);
            TrainPass train = new TrainPass(
                    session,
                    steps,
                    trainLoader,
                    data.train().size(),
                    data.test().size() + validation.size(),
                    mixedPrecision,
                    o,
                    console);
            for (int epoch = state.epochsCompleted(); epoch < o.epochs(); epoch++) {
                TrainPass.Trained trained =
                        train.run(epoch, state.globalStep(), run.dir().root().resolve(state.last()));
                Evaluation test = Evaluation.of(steps, d, testLoader, console, label(epoch, "test "));
                requireBoundedSkips(data, trainLoader, testLoader, test.confusion());
                Evaluation val =
                        valLoader == null ? null : Evaluation.of(steps, d, valLoader, console, label(epoch, "val  "));
                state = commit(session, mixedPrecision, listeners, epoch, state, trained, test, val);
            }
            Map<String, String> skipped = new TreeMap<>(data.badImages());
            skipped.putAll(trainLoader.skippedReasons());
            skipped.putAll(testLoader.skippedReasons());
            listeners.runFinished(new TrainingListener.RunEnd(state, skipped, ort));
        }
        listeners.runClosed(state);
        return new Trainer.Result(
                run.dir(),
                state.epochsCompleted(),
                state.bestTop1(),
                state.bestEpoch(),
                state.metrics(),
                run.dir().export());
    }

    /**
     * Epoch {@code epoch}'s metrics row with the best epoch so far on the selecting split, its checkpoint and run state
     * committed, then the listeners told. Returns the committed state.
     */
    private RunState commit(
            OrtAdapter.Training session,
            MixedPrecisionSteps mixedPrecision,
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
        double bestTop1 = best ? selected.top1() : state.bestTop1();
        int bestEpoch = best ? epoch : state.bestEpoch();
        session.setIntProperty(Trainer.PROP_EPOCHS_DONE, epoch + 1);
        session.setIntProperty(Trainer.PROP_GLOBAL_STEP, trained.globalStep());
        session.setFloatProperty(Trainer.PROP_TOP1, (float) test.confusion().top1());
        mixedPrecision.save(session);
        EpochMetrics m = new EpochMetrics(
                epoch,
                o.learningRateAt(epoch),
                trained.terms(),
                test.terms(),
                test.confusion().top1(),
                test.confusion().meanClassAccuracy(),
                trained.imagesPerSecond(),
                trained.seconds() + test.seconds() + (val == null ? 0 : val.seconds()),
                bestTop1,
                bestEpoch,
                trained.globalStep(),
                val == null ? Double.NaN : val.confusion().top1(),
                val == null ? Double.NaN : val.confusion().meanClassAccuracy(),
                protocol.selectOn(),
                test.groups());
        // SGD's state is the momentum buffers, frozen tensors of the model itself: ORT's optimizer moments would only
        // add a third copy of the weights' size (AdamW keeps its moments there and needs them)
        boolean withOptimizerState = o.spec().optimizer() == ModelSpec.Optimizer.ADAMW;
        RunState next = commits.commitEpoch(session, withOptimizerState, state, trained.globalStep(), selected, m);
        listeners.epochCommitted(new TrainingListener.EpochEnd(epoch, o.epochs(), m, state, next, test, val));
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
        return String.format(Locale.ROOT, "epoch %d/%d %s", epoch + 1, o.epochs(), pass);
    }

    private BatchLoader loader(List<Sample> samples, boolean training, int badBudget) {
        LoaderOptions options =
                training ? LoaderOptions.training(o.batchSize(), o.seed()) : LoaderOptions.evaluation(o.batchSize());
        return new BatchLoader(
                samples,
                Trainer.transform(o.layout(), o.spec().imageSize(), training),
                options.withWorkers(RunData.workers(o))
                        .withSkipBadImages(o.skipBadImages())
                        .withMaxBadImages(badBudget)
                        .withExifOrientation(o.applyExifOrientation()));
    }

    /** Intra-op threads of CPU training: --threads, or one per core. */
    static int threads(TrainOptions o) {
        return o.threads() > 0 ? o.threads() : Sessions.defaultThreads();
    }

    /** --max-bad-images over the whole run, and no test pass that scored nothing (top-1 would be NaN). */
    private void requireBoundedSkips(CheckedData data, BatchLoader train, BatchLoader test, ConfusionMatrix eval) {
        int bad = data.badImages().size()
                + train.skippedSources().size()
                + test.skippedSources().size();
        if (bad > o.maxBadImages()) {
            throw new IllegalStateException(bad + " bad images were skipped, more than --max-bad-images "
                    + o.maxBadImages() + ": the data set looks broken ("
                    + String.join("; ", test.skippedReasons().values()) + "); fix it or raise the bound");
        }
        if (eval.total() == 0) {
            throw new IllegalStateException(
                    "the test pass scored no image: all " + data.test().size() + " test images were skipped as bad");
        }
    }
}
