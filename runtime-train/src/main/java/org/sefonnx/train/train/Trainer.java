package org.sefonnx.train.train;

import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.AtomicFiles;
import org.sefonnx.generator.artifacts.Checkpoint;
import org.sefonnx.generator.artifacts.CheckpointReader;
import org.sefonnx.generator.artifacts.CheckpointWriter;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.generator.model.SefModel;
import org.sefonnx.generator.weights.PretrainedImport;
import org.sefonnx.graphs.ModelDescriptor;
import org.sefonnx.train.data.Batch;
import org.sefonnx.train.data.BatchLoader;
import org.sefonnx.train.data.Dataset;
import org.sefonnx.train.data.Datasets;
import org.sefonnx.train.data.LabelFile;
import org.sefonnx.train.data.Layout;
import org.sefonnx.train.data.LoaderOptions;
import org.sefonnx.train.data.TransformSpec;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * SEF training on ORT's training API: epochs of TrainStep/OptimizerStep with StepLR, a test pass after every epoch
 * (top-1, mean per-class accuracy, confusion matrix, best-epoch tracking as the authors report), a checkpoint after
 * every epoch (atomic), metrics and plots, and the inference export at the end. A killed run resumes from its last
 * checkpoint and ends with the same weights as an uninterrupted one: the data order and augmentation depend only on
 * (seed, epoch), and momentum and BatchNorm statistics live in the checkpoint.
 */
public final class Trainer {
    /** Checkpoint property-bag keys written by the trainer (besides the generator's model_id/spec/...). */
    public static final String PROP_EPOCHS_DONE = "epochs_completed";
    public static final String PROP_GLOBAL_STEP = "global_step";
    public static final String PROP_BEST_TOP1 = "best_top1";
    public static final String PROP_BEST_EPOCH = "best_epoch";
    public static final String PROP_TOP1 = "top1";

    /** What a finished run leaves. */
    public record Result(RunDirectory run, int epochsCompleted, double bestTop1, int bestEpoch, List<EpochMetrics> metrics,
                         Path export) {}

    private final TrainOptions o;
    private final PrintStream log;
    private final boolean terminal;

    public Trainer(TrainOptions options, PrintStream log) {
        this.o = options;
        this.log = log;
        this.terminal = System.console() != null;
    }

    /** A new run in {@code options.outDir()}; refuses a directory that already holds one. */
    public Result train() throws IOException {
        RunDirectory run = new RunDirectory(o.outDir());
        if (Files.exists(run.lastCheckpoint())) {
            throw new IllegalStateException(o.outDir() + " already holds a run (" + run.lastCheckpoint()
                    + "); continue it with --resume " + o.outDir() + " or choose another --out");
        }
        Files.createDirectories(run.artifacts());
        ModelDescriptor d = SpecDescriptor.of(o.spec());
        log.println("model: " + describe(o.spec()) + "; " + ModelArtifacts.materialize(o.spec(), d, run.artifacts()));
        Checkpoint initial = InitialCheckpoints.create(o.spec(), o.seed(), o.pretrained(), log);
        CheckpointWriter.write(initial, run.artifacts().resolve(d.checkpointFile()));
        writeRunProperties(run, o);
        String sha = initial.stringProperties().get(PretrainedImport.PROP_PRETRAINED_SHA256);
        if (sha != null) {
            Files.writeString(run.runProperties(), "pretrained.sha256=" + sha + "\n", java.nio.file.StandardOpenOption.APPEND);
        }
        return loop(run, d, run.artifacts().resolve(d.checkpointFile()), 0, 0, -1, Double.NaN, new MetricsLog(run));
    }

    /** Continues the run in {@code runDir} from its last checkpoint; {@code epochs} may extend the run (null keeps it). */
    public static Result resume(Path runDir, Integer epochs, PrintStream log) throws IOException {
        RunDirectory run = new RunDirectory(runDir);
        if (!Files.exists(run.lastCheckpoint())) {
            throw new IllegalStateException(runDir + " has no checkpoint to resume (" + run.lastCheckpoint() + " is missing)");
        }
        TrainOptions saved = readRunOptions(run);
        TrainOptions o = epochs == null ? saved : withEpochs(saved, epochs);
        Checkpoint header = CheckpointReader.readHeader(run.lastCheckpoint());
        requireSameSpec(o.spec(), header, run.lastCheckpoint());
        int done = header.intProperties().getOrDefault(PROP_EPOCHS_DONE, 0L).intValue();
        long step = header.intProperties().getOrDefault(PROP_GLOBAL_STEP, 0L);
        int bestEpoch = header.intProperties().getOrDefault(PROP_BEST_EPOCH, -1L).intValue();
        double bestTop1 = header.floatProperties().getOrDefault(PROP_BEST_TOP1, Float.NaN);
        log.println("resuming " + runDir + " after epoch " + done + " (global step " + step + ")");
        MetricsLog metrics = new MetricsLog(run);
        metrics.restore(MetricsLog.read(run.metricsJsonl()), done - 1);
        Trainer t = new Trainer(o, log);
        writeRunProperties(run, o);
        return t.loop(run, SpecDescriptor.of(o.spec()), run.lastCheckpoint(), done, step, bestEpoch, bestTop1, metrics);
    }

    /** Refuses a checkpoint made for another spec (shapes, K, G) before anything is overwritten. */
    static void requireSameSpec(ModelSpec expected, Checkpoint header, Path file) {
        String stored = header.stringProperties().get(ArtifactWriter.PROP_SPEC);
        if (stored == null) throw new IllegalStateException(file + ": not a sef-onnx checkpoint (no '" + ArtifactWriter.PROP_SPEC + "' property)");
        ModelSpec found = ModelSpec.parse(stored, file.toString());
        if (found.equals(expected)) return;
        List<String> diffs = new ArrayList<>();
        Map<String, String> a = expected.asMap(), b = found.asMap();
        for (String k : a.keySet()) if (!a.get(k).equals(b.get(k))) diffs.add(k + ": run wants " + a.get(k) + ", checkpoint has " + b.get(k));
        throw new IllegalStateException(file + " was trained for another model spec; nothing was overwritten. " + String.join("; ", diffs));
    }

    private Result loop(RunDirectory run, ModelDescriptor d, Path startCheckpoint, int startEpoch, long globalStep,
                        int bestEpoch, double bestTop1, MetricsLog metrics) throws IOException {
        Dataset data = openData(run);
        if (data.classCount() != o.spec().numClasses()) {
            throw new IllegalArgumentException(data.description() + " has " + data.classCount() + " classes but the model spec "
                    + o.spec().id() + " has numClasses=" + o.spec().numClasses() + " (use --classes " + data.classCount() + ")");
        }
        List<String> classNames = layoutNames(data);
        LabelFile.write(run.labels(), classNames);
        log.println("data: " + data.description() + ": " + data.train().size() + " train / " + data.test().size() + " test images, "
                + data.classCount() + " classes");
        int workers = o.workers() > 0 ? o.workers() : Math.max(1, Runtime.getRuntime().availableProcessors());
        try (OrtAdapter ort = OrtAdapter.create("sef-onnx");
             BatchLoader trainLoader = new BatchLoader(data.train(), transform(o.layout(), o.spec().imageSize(), true),
                     LoaderOptions.training(o.batchSize(), o.seed()).withWorkers(workers).withSkipBadImages(o.skipBadImages()));
             BatchLoader testLoader = new BatchLoader(data.test(), transform(o.layout(), o.spec().imageSize(), false),
                     LoaderOptions.evaluation(o.batchSize()).withWorkers(workers).withSkipBadImages(o.skipBadImages()));
             OrtAdapter.Training session = Sessions.open(ort, d, run.artifacts(), startCheckpoint, o.device(), threads(), o.cudaOptions(), log)) {
            int lossAt = d.trainOutputs().indexOf(SefModel.LOSS);
            // mixed precision: GradScaler state from the checkpoint (absent in a new run), fed scale, skipped steps
            MixedPrecisionSteps mixedPrecision = MixedPrecisionSteps.of(d, CheckpointReader.readHeader(startCheckpoint));
            for (int epoch = startEpoch; epoch < o.epochs(); epoch++) {
                double lr = o.learningRateAt(epoch);
                session.setLearningRate((float) lr);   // ORT does not restore it from a checkpoint
                double[] trainSums = new double[d.trainOutputs().size()];
                long trainImages = 0;
                int planned = o.maxBatchesPerEpoch() > 0 ? Math.min(o.maxBatchesPerEpoch(), trainLoader.batchesPerEpoch()) : trainLoader.batchesPerEpoch();
                Progress bar = new Progress(log, terminal, String.format(Locale.ROOT, "epoch %d/%d train", epoch + 1, o.epochs()), planned);
                int batches = 0;
                try (BatchLoader.Epoch it = trainLoader.epoch(epoch)) {
                    while (it.hasNext() && batches < planned) {
                        try (Batch b = it.next()) {
                            List<HostTensor> out = session.trainStep(mixedPrecision.inputs(HostTensor.view(b.images(), b.shape()), HostTensor.longs(b.labels(), b.size())));
                            float loss = out.get(lossAt).scalar();
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
                                        epoch > 0 || startEpoch > 0 ? run.lastCheckpoint() + " (after epoch " + epoch + ")" : "the initial " + startCheckpoint));
                            }
                            session.optimizerStep();
                            session.lazyResetGrad();
                            for (int i = 0; i < trainSums.length; i++) if (mixedPrecision.isLossTerm(i)) trainSums[i] += out.get(i).scalar() * (double) b.size();
                            trainImages += b.size();
                            globalStep++;
                            batches++;
                            bar.update(batches, b.size(), String.format(Locale.ROOT, "loss %.4f lr %.3g", loss, lr));
                        }
                    }
                }
                double trainSeconds = bar.seconds(), imagesPerSecond = bar.imagesPerSecond();
                Evaluation eval = evaluate(session, d, testLoader, epoch);
                boolean best = Double.isNaN(bestTop1) || eval.confusion.top1() > bestTop1;
                if (best) {
                    bestTop1 = eval.confusion.top1();
                    bestEpoch = epoch;
                }
                session.setIntProperty(PROP_EPOCHS_DONE, epoch + 1);
                session.setIntProperty(PROP_GLOBAL_STEP, globalStep);
                session.setIntProperty(PROP_BEST_EPOCH, bestEpoch);
                session.setFloatProperty(PROP_BEST_TOP1, (float) bestTop1);
                session.setFloatProperty(PROP_TOP1, (float) eval.confusion.top1());
                mixedPrecision.save(session);
                // SGD's state is the momentum buffers, frozen tensors of the model itself: ORT's optimizer moments would only
                // add a third copy of the weights' size (AdamW keeps its moments there and needs them)
                session.saveCheckpoint(run.lastCheckpoint(), o.spec().optimizer() == ModelSpec.Optimizer.ADAMW);
                if (best) {
                    copyAtomically(run.lastCheckpoint(), run.bestCheckpoint());
                    eval.confusion.write(run.bestConfusionMatrix(), classNames);
                }
                EpochMetrics m = new EpochMetrics(epoch, lr, terms(trainSums, trainImages, d), eval.terms, eval.confusion.top1(),
                        eval.confusion.meanClassAccuracy(), imagesPerSecond, trainSeconds + eval.seconds, bestTop1, bestEpoch, globalStep);
                metrics.append(m);
                log.printf(Locale.ROOT, "epoch %d/%d: train loss %.4f (CE %.4f E %.4f S %.4f L %.4f), test top-1 %.2f%% (mean per-class %.2f%%), best %.2f%% at epoch %d, %.1f img/s%n",
                        epoch + 1, o.epochs(), m.train().loss(), m.train().crossEntropy(), m.train().entropy(), m.train().distillation(),
                        m.train().grouping(), 100 * m.testTop1(), 100 * m.testMeanClassAccuracy(), 100 * bestTop1, bestEpoch + 1, imagesPerSecond);
                mixedPrecision.logEpoch(log);
            }
            if (trainLoader.skippedCount() + testLoader.skippedCount() > 0) {
                log.println("skipped " + (trainLoader.skippedCount() + testLoader.skippedCount()) + " bad images: " + trainLoader.skippedSources() + " " + testLoader.skippedSources());
            }
            Path export = Exporter.export(ort, d, run, o, run.bestCheckpoint(), classNames, log);
            writeSummary(run, metrics.rows(), bestTop1, bestEpoch, trainLoader.skippedSources(), testLoader.skippedSources(), export);
            return new Result(run, o.epochs(), bestTop1, bestEpoch, metrics.rows(), export);
        }
    }

    private record Evaluation(ConfusionMatrix confusion, EpochMetrics.LossTerms terms, double seconds) {}

    /** What `sef-onnx eval` reports. */
    public record EvalResult(double top1, double meanClassAccuracy, long images, double loss) {}

    /** Evaluates a run's checkpoint ({@code best}, {@code last} or a file) on its test split, or on {@code dataRoot}. */
    public static EvalResult evaluateCheckpoint(Path runDir, String which, Path dataRoot, Path confusionOut, PrintStream log) throws IOException {
        RunDirectory run = new RunDirectory(runDir);
        TrainOptions saved = readRunOptions(run);
        TrainOptions o = dataRoot == null ? saved : new TrainOptions(saved.spec(), saved.layout() == null ? Layout.IDX : saved.layout(), dataRoot,
                saved.outDir(), saved.epochs(), saved.batchSize(), saved.learningRate(), saved.lrStepEpochs(), saved.lrGamma(), saved.seed(),
                saved.device(), saved.threads(), saved.workers(), saved.skipBadImages(), false, 0, saved.pretrained());
        Path ckpt = run.checkpoint(which);
        requireSameSpec(o.spec(), CheckpointReader.readHeader(ckpt), ckpt);
        Trainer t = new Trainer(o, log);
        Dataset data = t.openData(run);
        ModelDescriptor d = SpecDescriptor.of(o.spec());
        int workers = o.workers() > 0 ? o.workers() : Runtime.getRuntime().availableProcessors();
        try (OrtAdapter ort = OrtAdapter.create("sef-onnx-eval");
             BatchLoader testLoader = new BatchLoader(data.test(), transform(o.layout(), o.spec().imageSize(), false),
                     LoaderOptions.evaluation(o.batchSize()).withWorkers(workers).withSkipBadImages(o.skipBadImages()));
             OrtAdapter.Training session = Sessions.open(ort, d, run.artifacts(), ckpt, o.device(), t.threads(), false, log)) {
            Evaluation e = t.evaluate(session, d, testLoader, 0);
            if (confusionOut != null) e.confusion.write(confusionOut, t.layoutNames(data));
            return new EvalResult(e.confusion.top1(), e.confusion.meanClassAccuracy(), e.confusion.total(), e.terms.loss());
        }
    }

    private Evaluation evaluate(OrtAdapter.Training session, ModelDescriptor d, BatchLoader testLoader, int epoch) {
        ConfusionMatrix confusion = new ConfusionMatrix(d.numClasses());
        List<String> outs = d.evalOutputs();
        int logitsAt = outs.indexOf(SefModel.LOGITS);
        double[] sums = new double[outs.size()];
        long images = 0;
        Progress bar = new Progress(log, terminal, String.format(Locale.ROOT, "epoch %d/%d test ", epoch + 1, o.epochs()), testLoader.batchesPerEpoch());
        int batches = 0;
        try (BatchLoader.Epoch it = testLoader.epoch(0)) {
            while (it.hasNext()) {
                try (Batch b = it.next()) {
                    List<HostTensor> out = session.evalStep(List.of(HostTensor.view(b.images(), b.shape()), HostTensor.longs(b.labels(), b.size())));
                    confusion.addBatch(out.get(logitsAt).toFloats(), b.labels());
                    for (String term : List.of(SefModel.LOSS, SefModel.CROSS_ENTROPY, SefModel.ENTROPY, SefModel.DISTILLATION, SefModel.GROUPING)) {
                        sums[outs.indexOf(term)] += out.get(outs.indexOf(term)).scalar() * (double) b.size();
                    }
                    images += b.size();
                    bar.update(++batches, b.size(), "");
                }
            }
        }
        return new Evaluation(confusion, terms(sums, images, d.evalOutputs()), bar.seconds());
    }

    private static EpochMetrics.LossTerms terms(double[] sums, long n, ModelDescriptor d) {
        return terms(sums, n, d.trainOutputs());
    }

    private static EpochMetrics.LossTerms terms(double[] sums, long n, List<String> names) {
        double div = Math.max(n, 1);
        return new EpochMetrics.LossTerms(sums[names.indexOf(SefModel.LOSS)] / div, sums[names.indexOf(SefModel.CROSS_ENTROPY)] / div,
                sums[names.indexOf(SefModel.ENTROPY)] / div, sums[names.indexOf(SefModel.DISTILLATION)] / div, sums[names.indexOf(SefModel.GROUPING)] / div);
    }

    private int threads() {
        return o.threads() > 0 ? o.threads() : Sessions.defaultThreads();
    }

    private Dataset openData(RunDirectory run) throws IOException {
        if (o.layout() != null) return Datasets.open(o.layout(), o.dataRoot());
        Path demo = run.root().resolve("demo-data");
        if (!Files.exists(demo.resolve(DemoData.FILES.get(0)))) DemoData.extract(demo);
        return Datasets.open(Layout.IDX, demo);
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

    static void copyAtomically(Path from, Path to) throws IOException {
        Path tmp = to.resolveSibling("." + to.getFileName() + ".tmp");
        Files.copy(from, tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(tmp, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    static String describe(ModelSpec s) {
        return String.format(Locale.ROOT, "%s (ResNet-%d, K=%d, G=%d, %d px, λ=%s γ=%s φ=%s, %s%s)", s.id(), s.depth(), s.numClasses(), s.groups(),
                s.imageSize(), s.lambda(), s.gamma(), s.phi(), s.optimizer().name().toLowerCase(Locale.ROOT).replace('_', '-'),
                s.precision() == ModelSpec.Precision.FP32 ? "" : ", " + s.precision().label() + " mixed precision");
    }

    // ---- run.properties: what --resume needs to rebuild the options ----

    static void writeRunProperties(RunDirectory run, TrainOptions o) throws IOException {
        StringBuilder sb = new StringBuilder("# sef-onnx run: options; the model spec is in artifacts/model.properties\n");
        o.asMap().forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
        AtomicFiles.writeString(run.runProperties(), sb.toString());
        AtomicFiles.writeString(run.artifacts().resolve(ArtifactWriter.SPEC_FILE), o.spec().toProperties());
    }

    public static TrainOptions readRunOptions(RunDirectory run) throws IOException {
        Properties p = new Properties();
        try (var in = Files.newBufferedReader(run.runProperties())) {
            p.load(in);
        }
        Path specFile = run.artifacts().resolve(ArtifactWriter.SPEC_FILE);
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
                    pretrained.isEmpty() ? null : Path.of(pretrained)).withCuda(TrainOptions.cudaFrom(p::getProperty));
        } catch (RuntimeException e) {
            throw new IllegalStateException(run.runProperties() + " is damaged: " + e.getMessage(), e);
        }
    }

    static TrainOptions withEpochs(TrainOptions o, int epochs) {
        return new TrainOptions(o.spec(), o.layout(), o.dataRoot(), o.outDir(), epochs, o.batchSize(), o.learningRate(), o.lrStepEpochs(),
                o.lrGamma(), o.seed(), o.device(), o.threads(), o.workers(), o.skipBadImages(), o.cudnnExhaustiveSearch(), o.maxBatchesPerEpoch(), o.pretrained(), o.cuda());
    }

    private static void writeSummary(RunDirectory run, List<EpochMetrics> rows, double bestTop1, int bestEpoch, List<String> skippedTrain,
                                     List<String> skippedTest, Path export) throws IOException {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "best test top-1: %.4f at epoch %d%n", bestTop1, bestEpoch + 1));
        if (!rows.isEmpty()) {
            EpochMetrics last = rows.get(rows.size() - 1);
            sb.append(String.format(Locale.ROOT, "last epoch %d: test top-1 %.4f, mean per-class %.4f, train loss %.4f%n", last.epoch() + 1,
                    last.testTop1(), last.testMeanClassAccuracy(), last.train().loss()));
        }
        sb.append("skipped bad images: ").append(skippedTrain.size() + skippedTest.size()).append('\n');
        for (String s : skippedTrain) sb.append("  train ").append(s).append('\n');
        for (String s : skippedTest) sb.append("  test ").append(s).append('\n');
        sb.append("export: ").append(export).append('\n');
        AtomicFiles.writeString(run.summary(), sb.toString());
    }
}
