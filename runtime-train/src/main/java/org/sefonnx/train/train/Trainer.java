package org.sefonnx.train.train;

import org.sefonnx.contract.ArtifactLayout;
import org.sefonnx.contract.AtomicFiles;
import org.sefonnx.contract.LabelFile;
import org.sefonnx.contract.ModelDescriptor;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.Checkpoint;
import org.sefonnx.generator.artifacts.CheckpointReader;
import org.sefonnx.generator.artifacts.CheckpointWriter;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.generator.weights.PretrainedImport;
import org.sefonnx.train.data.Batch;
import org.sefonnx.train.data.BatchLoader;
import org.sefonnx.train.data.CheckedData;
import org.sefonnx.train.data.DataCheck;
import org.sefonnx.train.data.Dataset;
import org.sefonnx.train.data.Datasets;
import org.sefonnx.train.data.Layout;
import org.sefonnx.train.data.LoaderOptions;
import org.sefonnx.train.data.Sample;
import org.sefonnx.train.data.TransformSpec;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * SEF training on ORT's training API: epochs of TrainStep/OptimizerStep with StepLR, a test pass after every epoch
 * (top-1, mean per-class accuracy, confusion matrix, best-epoch tracking as the authors report), a checkpoint after
 * every epoch (atomic), metrics and plots, and the inference export at the end. A killed run resumes from its last
 * checkpoint and ends with the same weights as an uninterrupted one: the data order and augmentation depend only on
 * (seed, epoch), and momentum and BatchNorm statistics live in the checkpoint.
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
    public record Result(RunDirectory run, int epochsCompleted, double bestTop1, int bestEpoch, List<EpochMetrics> metrics,
                         Path export) {}

    private final TrainOptions o;
    /** Validation split, selection rule and split-count strictness; the authors' protocol unless given. */
    private final Protocol protocol;
    private final PrintStream log;
    private final boolean terminal;
    /** Fault-injection seam of the commit sequence (RunCommits.Hook); NONE outside tests. */
    RunCommits.Hook commitHook = RunCommits.Hook.NONE;
    /** Set once the training session is open: a failure before that is a failed start and leaves nothing behind. */
    private boolean started;

    public Trainer(TrainOptions options, PrintStream log) {
        this(options, Protocol.AUTHORS, log);
    }

    /** A trainer that holds out a validation split and picks the best epoch as {@code protocol} says. */
    public Trainer(TrainOptions options, Protocol protocol, PrintStream log) {
        this.o = options;
        this.protocol = protocol;
        this.log = log;
        this.terminal = System.console() != null;
    }

    /**
     * A new run in {@code options.outDir()}. Everything that can be refused (the folder, the data set and every image
     * header, --pretrained, the device) is checked before the first file is written, and a start that fails before
     * training begins removes what it wrote.
     */
    public Result train() throws IOException {
        RunDirectory run = new RunDirectory(o.outDir());
        StartChecks.requireNewRunFolder(run);
        CheckedData data = o.layout() == null ? null : checkData(openData());
        Checkpoint initial = InitialCheckpoints.create(o.spec(), o.seed(), o.pretrained(), log);
        StartChecks.requireDevice(o.device());
        boolean folderExisted = Files.exists(o.outDir());
        try {
            Files.createDirectories(run.artifacts());
            if (data == null) data = checkData(demoData(run));
            List<Sample> validation = ValidationSplit.choose(protocol, o, data.dataset());
            if (protocol.hasValidation()) ValidationSplit.write(run, protocol, validation);
            ModelDescriptor d = SpecDescriptor.of(o.spec());
            log.println("model: " + describe(o.spec()) + "; " + ModelArtifacts.materialize(o.spec(), d, run.artifacts()));
            Path initialFile = run.artifacts().resolve(ArtifactLayout.CHECKPOINT);
            CheckpointWriter.write(initial, initialFile);
            writeRunProperties(run, o, protocol, initial.stringProperties().get(PretrainedImport.PROP_PRETRAINED_SHA256));
            RunState state = RunState.initial(run, initialFile);
            state.commit(run);
            return withReport(loop(run, d, state, data, validation));
        } catch (IOException | RuntimeException | Error e) {
            if (!started) StartChecks.removeFailedStart(run, folderExisted, e);
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
    public static Result resume(Path runDir, Integer epochs, boolean fromBest, Protocol requested, PrintStream log) throws IOException {
        return resume(runDir, epochs, fromBest, requested, log, RunCommits.Hook.NONE);
    }

    static Result resume(Path runDir, Integer epochs, boolean fromBest, PrintStream log, RunCommits.Hook hook) throws IOException {
        return resume(runDir, epochs, fromBest, null, log, hook);
    }

    private static Result resume(Path runDir, Integer epochs, boolean fromBest, Protocol requested, PrintStream log, RunCommits.Hook hook)
            throws IOException {
        RunDirectory run = new RunDirectory(runDir);
        RunState state = RunState.read(run);
        if (fromBest) state = state.rolledBackToBest();
        TrainOptions saved = readRunOptions(run);
        Protocol protocol = Protocol.from(readRunProperties(run)::getProperty, run.runProperties());
        protocol.requireSame(requested, runDir);
        if (epochs != null && epochs < state.epochsCompleted()) {
            throw new IllegalArgumentException("--epochs " + epochs + " is fewer than the " + state.epochsCompleted() + " epochs " + runDir
                    + " has completed; give at least " + state.epochsCompleted());
        }
        TrainOptions o = epochs == null ? saved : withEpochs(saved, epochs);
        Path start = state.verified(run, "last");
        if (state.best() != null) state.verified(run, "best");
        requireSameSpec(o.spec(), CheckpointReader.readHeader(start), start);
        Trainer t = new Trainer(o, protocol, log);
        t.commitHook = hook;
        CheckedData data = t.checkData(o.layout() == null ? t.demoData(run) : t.openData());
        List<Sample> validation = ValidationSplit.choose(protocol, o, data.dataset());
        ValidationSplit.requireSameAsFile(run, protocol, validation);
        if (fromBest) state.commit(run);
        log.println("resuming " + runDir + " after epoch " + state.epochsCompleted() + " (global step " + state.globalStep() + ")");
        writeRunProperties(run, o, protocol, readRunProperties(run).getProperty(PROP_RUN_PRETRAINED_SHA));
        return t.withReport(t.loop(run, SpecDescriptor.of(o.spec()), state, data, validation));
    }

    /** Refuses a checkpoint made for another spec (shapes, K, G) before anything is overwritten. */
    static void requireSameSpec(ModelSpec expected, Checkpoint header, Path file) {
        String stored = header.stringProperties().get(ArtifactWriter.PROP_SPEC);
        if (stored == null) throw new InvalidRunException(file + ": not a sef-onnx checkpoint (no '" + ArtifactWriter.PROP_SPEC + "' property)");
        ModelSpec found = ModelSpec.parse(stored, file.toString());
        if (found.equals(expected)) return;
        List<String> diffs = new ArrayList<>();
        Map<String, String> a = expected.asMap(), b = found.asMap();
        for (String k : a.keySet()) if (!a.get(k).equals(b.get(k))) diffs.add(k + ": run wants " + a.get(k) + ", checkpoint has " + b.get(k));
        throw new InvalidRunException(file + " was trained for another model spec; nothing was overwritten. " + String.join("; ", diffs));
    }

    private Result loop(RunDirectory run, ModelDescriptor d, RunState committed, CheckedData checked, List<Sample> heldOut) throws IOException {
        List<Sample> validation = ValidationSplit.checked(checked, heldOut);
        CheckedData data = ValidationSplit.withoutValidation(checked, heldOut);
        List<String> classNames = layoutNames(data.dataset());
        LabelFile.write(run.labels(), classNames);
        log.println("data: " + data.dataset().description() + ": " + data.train().size() + " train / " + (validation.isEmpty() ? "" : validation.size() + " validation / ")
                + data.test().size() + " test images, " + data.dataset().classCount() + " classes; " + protocol.describe());
        RunCommits commits = new RunCommits(run, commitHook);
        commits.restore(committed, classNames);
        RunState state = committed;
        int workers = o.workers() > 0 ? o.workers() : Math.max(1, Runtime.getRuntime().availableProcessors());
        int badBudget = o.maxBadImages() - data.badImages().size();
        Path startCheckpoint = run.root().resolve(state.last());
        try (OrtAdapter ort = OrtAdapter.create("sef-onnx");
             BatchLoader trainLoader = new BatchLoader(data.train(), transform(o.layout(), o.spec().imageSize(), true),
                     LoaderOptions.training(o.batchSize(), o.seed()).withWorkers(workers).withSkipBadImages(o.skipBadImages()).withMaxBadImages(badBudget)
                             .withExifOrientation(o.applyExifOrientation()));
             BatchLoader testLoader = new BatchLoader(data.test(), transform(o.layout(), o.spec().imageSize(), false),
                     LoaderOptions.evaluation(o.batchSize()).withWorkers(workers).withSkipBadImages(o.skipBadImages()).withMaxBadImages(badBudget)
                             .withExifOrientation(o.applyExifOrientation()));
             // null without a validation split: try-with-resources skips closing it
             BatchLoader valLoader = validation.isEmpty() ? null : new BatchLoader(validation, transform(o.layout(), o.spec().imageSize(), false),
                     LoaderOptions.evaluation(o.batchSize()).withWorkers(workers).withSkipBadImages(o.skipBadImages()).withMaxBadImages(badBudget)
                             .withExifOrientation(o.applyExifOrientation()));
             OrtAdapter.Training session = Sessions.open(ort, d, run.artifacts(), startCheckpoint, o.device(), threads(), o.cudaOptions(), log)) {
            started = true;
            long globalStep = state.globalStep();
            int startEpoch = state.epochsCompleted();
            ModelSteps steps = new ModelSteps(d, session);
            // mixed precision: GradScaler state from the checkpoint (absent in a new run), fed scale, skipped steps
            MixedPrecisionSteps mixedPrecision = MixedPrecisionSteps.of(d, CheckpointReader.readHeader(startCheckpoint));
            for (int epoch = startEpoch; epoch < o.epochs(); epoch++) {
                double lr = o.learningRateAt(epoch);
                session.setLearningRate((float) lr);   // ORT does not restore it from a checkpoint
                ModelSteps.LossTermSums trainTerms = new ModelSteps.LossTermSums();
                int planned = o.maxBatchesPerEpoch() > 0 ? Math.min(o.maxBatchesPerEpoch(), trainLoader.batchesPerEpoch()) : trainLoader.batchesPerEpoch();
                Progress bar = new Progress(log, terminal, String.format(Locale.ROOT, "epoch %d/%d train", epoch + 1, o.epochs()), planned);
                int batches = 0;
                try (BatchLoader.Epoch it = trainLoader.epoch(epoch)) {
                    while (it.hasNext() && batches < planned) {
                        try (Batch b = it.next()) {
                            ModelSteps.Outputs out = steps.train(mixedPrecision.inputs(HostTensor.view(b.images(), b.shape()), HostTensor.longs(b.labels(), b.size())));
                            float loss = out.scalar(TensorNames.LOSS);
                            if (!mixedPrecision.step(out)) {
                                session.lazyResetGrad();   // the next step overwrites the skipped step's gradient buffers
                                globalStep++;
                                batches++;
                                bar.update(batches, b.size(), String.format(Locale.ROOT, "skipped (loss scale now %.0f)", mixedPrecision.scale()));
                                continue;
                            }
                            if (!Float.isFinite(loss)) {
                                throw new TrainingDivergedException(String.format(Locale.ROOT,
                                        "the loss became %s at epoch %d, step %d (global step %d); training stopped. The last good checkpoint is %s. "
                                                + "Lower --lr or check the data.", loss, epoch + 1, batches + 1, globalStep + 1,
                                        (epoch > 0 ? "" : "the initial ") + run.root().resolve(state.last()) + " (after epoch " + epoch + ")"));
                            }
                            session.optimizerStep();
                            session.lazyResetGrad();
                            trainTerms.add(out, b.size());
                            globalStep++;
                            batches++;
                            bar.update(batches, b.size(), String.format(Locale.ROOT, "loss %.4f lr %.3g", loss, lr));
                        }
                    }
                }
                if (batches == 0) {
                    throw new IllegalStateException("epoch " + (epoch + 1) + " trained on no batch: every image of " + data.train().size()
                            + " train images was skipped as bad (" + String.join("; ", trainLoader.skippedReasons().values()) + ")");
                }
                double trainSeconds = bar.seconds(), imagesPerSecond = bar.imagesPerSecond();
                Evaluation eval = evaluate(steps, d, testLoader, String.format(Locale.ROOT, "epoch %d/%d test ", epoch + 1, o.epochs()));
                requireBoundedSkips(data, trainLoader, testLoader, eval.confusion);
                Evaluation valEval = valLoader == null ? null : evaluate(steps, d, valLoader, String.format(Locale.ROOT, "epoch %d/%d val  ", epoch + 1, o.epochs()));
                // the run state keeps the selection split's integer counts: with --select-on val the validation pass's
                ConfusionMatrix selected = protocol.selectOn() == Protocol.SelectOn.VAL ? valEval.confusion : eval.confusion;
                boolean best = state.isBetter(selected.correct(), selected.total());
                double bestTop1 = best ? selected.top1() : state.bestTop1();
                int bestEpoch = best ? epoch : state.bestEpoch();
                session.setIntProperty(PROP_EPOCHS_DONE, epoch + 1);
                session.setIntProperty(PROP_GLOBAL_STEP, globalStep);
                session.setFloatProperty(PROP_TOP1, (float) eval.confusion.top1());
                mixedPrecision.save(session);
                EpochMetrics m = new EpochMetrics(epoch, lr, trainTerms.mean(), eval.terms, eval.confusion.top1(),
                        eval.confusion.meanClassAccuracy(), imagesPerSecond, trainSeconds + eval.seconds + (valEval == null ? 0 : valEval.seconds), bestTop1,
                        bestEpoch, globalStep, valEval == null ? Double.NaN : valEval.confusion.top1(),
                        valEval == null ? Double.NaN : valEval.confusion.meanClassAccuracy(), protocol.selectOn(), eval.groups);
                // SGD's state is the momentum buffers, frozen tensors of the model itself: ORT's optimizer moments would only
                // add a third copy of the weights' size (AdamW keeps its moments there and needs them)
                state = commits.commitEpoch(session, o.spec().optimizer() == ModelSpec.Optimizer.ADAMW, state, globalStep, selected, m, classNames);
                log.printf(Locale.ROOT, "epoch %d/%d: train loss %.4f (CE %.4f E %.4f S %.4f L %.4f), test top-1 %.2f%% (mean per-class %.2f%%), best %.2f%% at epoch %d, %.1f img/s%n",
                        epoch + 1, o.epochs(), m.train().loss(), m.train().crossEntropy(), m.train().entropy(), m.train().distillation(),
                        m.train().grouping(), 100 * m.testTop1(), 100 * m.testMeanClassAccuracy(), 100 * bestTop1, bestEpoch + 1, imagesPerSecond);
                if (valEval != null) log.printf(Locale.ROOT, "  validation top-1 %.2f%% (mean per-class %.2f%%, %d images); the best epoch is chosen on %s%n",
                        100 * m.valTop1(), 100 * m.valMeanClassAccuracy(), valEval.confusion.total(), protocol.selectOn() == Protocol.SelectOn.VAL ? "validation" : "test");
                log.printf(Locale.ROOT, "epoch %d/%d groups: test squared cosine intra %.4f inter %.4f (gap %.4f), group-head top-1 %s%n", epoch + 1,
                        o.epochs(), eval.groups.intraSquaredCosine(), eval.groups.interSquaredCosine(), eval.groups.gap(), percentages(eval.groups.groupTop1()));
                mixedPrecision.logEpoch(log);
            }
            Map<String, String> skipped = new TreeMap<>(data.badImages());
            skipped.putAll(trainLoader.skippedReasons());
            skipped.putAll(testLoader.skippedReasons());
            if (!skipped.isEmpty()) log.println("skipped " + skipped.size() + " bad images: " + String.join("; ", skipped.values()));
            RunState done = state;
            Path export = commits.finish(() -> Exporter.export(ort, d, run, o, done.verified(run, "best"), classNames, log),
                    dir -> writeSummary(run, done, protocol, skipped, dir));
            return new Result(run, state.epochsCompleted(), state.bestTop1(), state.bestEpoch(), state.metrics(), export);
        }
    }

    /** report.html and its explain pass (explain/), after the export: derived files, rebuilt by a resumed run. */
    private Result withReport(Result r) throws IOException {
        org.sefonnx.train.explain.RunReport.writeForRun(r.run(), log);
        return r;
    }

    /** --max-bad-images over the whole run, and no test pass that scored nothing (top-1 would be NaN). */
    private void requireBoundedSkips(CheckedData data, BatchLoader train, BatchLoader test, ConfusionMatrix eval) {
        int bad = data.badImages().size() + train.skippedSources().size() + test.skippedSources().size();
        if (bad > o.maxBadImages()) {
            throw new IllegalStateException(bad + " bad images were skipped, more than --max-bad-images " + o.maxBadImages()
                    + ": the data set looks broken (" + String.join("; ", test.skippedReasons().values()) + "); fix it or raise the bound");
        }
        if (eval.total() == 0) {
            throw new IllegalStateException("the test pass scored no image: all " + data.test().size() + " test images were skipped as bad");
        }
    }

    private record Evaluation(ConfusionMatrix confusion, EpochMetrics.LossTerms terms, GroupMetrics.Summary groups, double seconds) {}

    private static String percentages(double[] fractions) {
        List<String> parts = new ArrayList<>();
        for (double f : fractions) parts.add(String.format(Locale.ROOT, "%.2f%%", 100 * f));
        return String.join(" / ", parts);
    }

    /** What `sef-onnx eval` reports. */
    public record EvalResult(double top1, double meanClassAccuracy, long images, double loss) {}

    /** Evaluates a run's checkpoint ({@code best}, {@code last} or a file) on its test split, or on {@code dataRoot}. */
    public static EvalResult evaluateCheckpoint(Path runDir, String which, Path dataRoot, Path confusionOut, PrintStream log) throws IOException {
        RunDirectory run = new RunDirectory(runDir);
        RunState.read(run);   // a folder that is not a run fails here, saying so
        TrainOptions saved = readRunOptions(run);
        TrainOptions o = dataRoot == null ? saved : new TrainOptions(saved.spec(), saved.layout() == null ? Layout.IDX : saved.layout(), dataRoot,
                saved.outDir(), saved.epochs(), saved.batchSize(), saved.learningRate(), saved.lrStepEpochs(), saved.lrGamma(), saved.seed(),
                saved.device(), saved.threads(), saved.workers(), saved.skipBadImages(), false, 0, saved.pretrained(), saved.maxBadImages(),
                saved.applyExifOrientation());
        Path ckpt = run.checkpoint(which);
        requireSameSpec(o.spec(), CheckpointReader.readHeader(ckpt), ckpt);
        Trainer t = new Trainer(o, log);
        Dataset data = o.layout() == null ? t.demoData(run) : Datasets.open(o.layout(), o.dataRoot());
        ModelDescriptor d = SpecDescriptor.of(o.spec());
        int workers = o.workers() > 0 ? o.workers() : Runtime.getRuntime().availableProcessors();
        try (OrtAdapter ort = OrtAdapter.create("sef-onnx-eval");
             BatchLoader testLoader = new BatchLoader(data.test(), transform(o.layout(), o.spec().imageSize(), false),
                     LoaderOptions.evaluation(o.batchSize()).withWorkers(workers).withSkipBadImages(o.skipBadImages())
                             .withExifOrientation(o.applyExifOrientation()));
             OrtAdapter.Training session = Sessions.open(ort, d, run.artifacts(), ckpt, o.device(), t.threads(), false, log)) {
            Evaluation e = t.evaluate(new ModelSteps(d, session), d, testLoader, "eval " + ckpt.getFileName());
            if (confusionOut != null) e.confusion.write(confusionOut, t.layoutNames(data));
            return new EvalResult(e.confusion.top1(), e.confusion.meanClassAccuracy(), e.confusion.total(), e.terms.loss());
        }
    }

    private Evaluation evaluate(ModelSteps steps, ModelDescriptor d, BatchLoader testLoader, String label) {
        ConfusionMatrix confusion = new ConfusionMatrix(d.numClasses());
        GroupMetrics groups = new GroupMetrics(d.groupChannels(), d.numClasses());
        ModelSteps.LossTermSums terms = new ModelSteps.LossTermSums();
        Progress bar = new Progress(log, terminal, label, testLoader.batchesPerEpoch());
        int batches = 0;
        try (BatchLoader.Epoch it = testLoader.epoch(0)) {
            while (it.hasNext()) {
                try (Batch b = it.next()) {
                    ModelSteps.Outputs out = steps.eval(HostTensor.view(b.images(), b.shape()), HostTensor.longs(b.labels(), b.size()));
                    confusion.addBatch(out.floats(TensorNames.LOGITS), b.labels());
                    groups.addBatch(out.floats(TensorNames.GROUP_BLOCK_SUMS), out.floats(TensorNames.GROUP_LOGITS), b.labels());
                    terms.add(out, b.size());
                    bar.update(++batches, b.size(), "");
                }
            }
        }
        return new Evaluation(confusion, terms.mean(), groups.summary(), bar.seconds());
    }

    private int threads() {
        return o.threads() > 0 ? o.threads() : Sessions.defaultThreads();
    }

    /** The embedded demo, unpacked into the run folder once. */
    private Dataset demoData(RunDirectory run) throws IOException {
        Path demo = run.root().resolve("demo-data");
        if (!Files.exists(demo.resolve(DemoData.FILES.get(0)))) DemoData.extract(demo);
        return Datasets.open(Layout.IDX, demo);
    }

    /** The data set of --data, its split sizes checked against the paper's Table I. */
    private Dataset openData() {
        Dataset data = Datasets.open(o.layout(), o.dataRoot());
        protocol.checkSplitCounts(o.layout(), data, log);
        return data;
    }

    /** The data set checked against the spec and image by image (DataCheck), with a progress line. */
    private CheckedData checkData(Dataset data) {
        int workers = o.workers() > 0 ? o.workers() : Math.max(1, Runtime.getRuntime().availableProcessors());
        int chunk = DataCheck.PROGRESS_CHUNK, chunks = (DataCheck.fileCount(data) + chunk - 1) / chunk;
        Progress bar = new Progress(log, terminal, "checking images", chunks);
        return DataCheck.check(data, o.spec().numClasses(), o.spec().id(), o.skipBadImages(), o.maxBadImages(), workers, log,
                done -> bar.update((done + chunk - 1) / chunk, chunk, ""));
    }

    /** The demo's IDX labels are digits: give them Fashion-MNIST's names (index order unchanged). */
    private List<String> layoutNames(Dataset data) {
        return o.layout() == null ? DemoData.CLASS_NAMES : data.classNames();
    }

    /**
     * The authors' transforms (sef-method.md) at the spec's input size: CUB/Aircraft resize to size·600/448 then
     * crop (random for training, centre for test); Cars/Dogs/ImageFolder resize to the size; flips for training.
     * IDX (the demo) resizes without flips.
     */
    public static TransformSpec transform(Layout layout, int size, boolean training) {
        if (layout == null || layout == Layout.IDX) return TransformSpec.resize(size, false);
        return switch (layout) {
            case CUB, AIRCRAFT -> {
                int resize = Math.round(size * (float) TransformSpec.BIRDS_AIRCRAFT_RESIZE / TransformSpec.NETWORK_INPUT);
                yield TransformSpec.resizeAndCrop(resize, size, training ? TransformSpec.Crop.RANDOM : TransformSpec.Crop.CENTER, training);
            }
            default -> TransformSpec.resize(size, training);
        };
    }

    static String describe(ModelSpec s) {
        return String.format(Locale.ROOT, "%s (ResNet-%d, K=%d, G=%d, %d px, λ=%s γ=%s φ=%s, %s%s)", s.id(), s.depth(), s.numClasses(), s.groups(),
                s.imageSize(), s.lambda(), s.gamma(), s.phi(), s.optimizer().name().toLowerCase(Locale.ROOT).replace('_', '-'),
                s.precision() == ModelSpec.Precision.FP32 ? "" : ", " + s.precision().label() + " mixed precision");
    }

    // ---- run.properties: what --resume needs to rebuild the options ----

    /** run.properties key of the --pretrained file's SHA-256 (checked at import, recorded for provenance). */
    static final String PROP_RUN_PRETRAINED_SHA = "pretrained.sha256";

    static void writeRunProperties(RunDirectory run, TrainOptions o, Protocol protocol, String pretrainedSha256) throws IOException {
        StringBuilder sb = new StringBuilder("# sef-onnx run: options; the model spec is in artifacts/" + ArtifactLayout.SPEC + "\n");
        o.asMap().forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
        protocol.asMap().forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
        if (pretrainedSha256 != null) sb.append(PROP_RUN_PRETRAINED_SHA).append('=').append(pretrainedSha256).append('\n');
        AtomicFiles.writeString(run.runProperties(), sb.toString());
        AtomicFiles.writeString(run.artifacts().resolve(ArtifactLayout.SPEC), o.spec().toProperties());
    }

    static Properties readRunProperties(RunDirectory run) throws IOException {
        Properties p = new Properties();
        try (var in = Files.newBufferedReader(run.runProperties())) {
            p.load(in);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new InvalidRunException(run.runProperties() + " is missing: " + run.root() + " is not a complete sef-onnx run directory");
        }
        return p;
    }

    public static TrainOptions readRunOptions(RunDirectory run) throws IOException {
        Properties p = readRunProperties(run);
        Path specFile = run.artifacts().resolve(ArtifactLayout.SPEC);
        ModelSpec spec = ModelSpec.parse(Files.readString(specFile), specFile.toString());
        String layout = p.getProperty("data.layout", "demo");
        String root = p.getProperty("data.root", "");
        String pretrained = p.getProperty("pretrained", "");
        try {
            return new TrainOptions(spec, layout.equals("demo") ? null : Layout.valueOf(layout.toUpperCase(Locale.ROOT)),
                    root.isEmpty() ? null : Path.of(root), run.root(), Integer.parseInt(p.getProperty("epochs")),
                    Integer.parseInt(p.getProperty("batchSize")), Double.parseDouble(p.getProperty("learningRate")),
                    Integer.parseInt(p.getProperty("lrStepEpochs")), Double.parseDouble(p.getProperty("lrGamma")),
                    Long.parseLong(p.getProperty("seed")), TrainOptions.Device.valueOf(p.getProperty("device").toUpperCase(Locale.ROOT)),
                    Integer.parseInt(p.getProperty("threads")), Integer.parseInt(p.getProperty("workers")),
                    Boolean.parseBoolean(p.getProperty("skipBadImages")), false, Integer.parseInt(p.getProperty("maxBatchesPerEpoch", "0")),
                    pretrained.isEmpty() ? null : Path.of(pretrained),
                    Integer.parseInt(p.getProperty("maxBadImages", Integer.toString(TrainOptions.DEFAULT_MAX_BAD_IMAGES))),
                    TrainOptions.parseExifOrientation(p.getProperty("exifOrientation", "ignore"))).withCuda(TrainOptions.cudaFrom(p::getProperty));
        } catch (RuntimeException e) {
            throw new InvalidRunException(run.runProperties() + " is damaged: " + e.getMessage());
        }
    }

    static TrainOptions withEpochs(TrainOptions o, int epochs) {
        return new TrainOptions(o.spec(), o.layout(), o.dataRoot(), o.outDir(), epochs, o.batchSize(), o.learningRate(), o.lrStepEpochs(),
                o.lrGamma(), o.seed(), o.device(), o.threads(), o.workers(), o.skipBadImages(), o.cudnnExhaustiveSearch(), o.maxBatchesPerEpoch(), o.pretrained(),
                o.maxBadImages(), o.applyExifOrientation(), o.cuda());
    }

    private static void writeSummary(RunDirectory run, RunState state, Protocol protocol, Map<String, String> skipped, Path export) throws IOException {
        StringBuilder sb = new StringBuilder();
        boolean onVal = protocol.selectOn() == Protocol.SelectOn.VAL;
        sb.append(String.format(Locale.ROOT, "best %s top-1: %.4f (%d/%d) at epoch %d%n", onVal ? "validation" : "test", state.bestTop1(), state.bestCorrect(),
                state.bestTotal(), state.bestEpoch() + 1));
        if (onVal) {
            EpochMetrics at = state.metrics().get(state.bestEpoch());
            sb.append(String.format(Locale.ROOT, "test top-1 at that epoch: %.4f, mean per-class %.4f%n", at.testTop1(), at.testMeanClassAccuracy()));
        }
        sb.append("selection rule: ").append(protocol.describe()).append('\n');
        List<EpochMetrics> rows = state.metrics();
        if (!rows.isEmpty()) {
            EpochMetrics last = rows.get(rows.size() - 1);
            sb.append(String.format(Locale.ROOT, "last epoch %d: test top-1 %.4f, mean per-class %.4f, train loss %.4f%n", last.epoch() + 1,
                    last.testTop1(), last.testMeanClassAccuracy(), last.train().loss()));
        }
        sb.append("skipped bad images: ").append(skipped.size()).append('\n');
        for (String reason : skipped.values()) sb.append("  ").append(reason).append('\n');
        sb.append("export: ").append(export).append('\n');
        AtomicFiles.writeString(run.summary(), sb.toString());
    }
}
