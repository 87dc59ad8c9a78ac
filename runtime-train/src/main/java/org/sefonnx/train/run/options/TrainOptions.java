package org.sefonnx.train.run.options;

import java.nio.file.Path;
import java.util.List;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.train.data.Dataset;
import org.sefonnx.train.data.DemoData;
import org.sefonnx.train.data.Layout;
import org.sefonnx.train.data.LoaderOptions;
import org.sefonnx.train.data.TransformSpec;
import org.sefonnx.train.ort.OrtAdapter;

/**
 * What a training run is asked to do, in the parts that different stages read: the model spec and the run folder,
 * the seed, the data set ({@link Data}), the schedule ({@link Schedule}), where it computes ({@link Compute}), what it
 * does with images it cannot read ({@link BadImages}), the weights it starts from ({@code pretrained}, null: the
 * seed's) and whether it keeps {@code artifacts/checkpoint} (the initial weights) once epoch 1 is committed. Every
 * field is range-checked when a part is made, before anything is written, with the command-line option named.
 *
 * @param seed seeds the initial weights, the shuffle and augmentation, and the validation split
 */
public record TrainOptions(
        ModelSpec spec,
        Path outDir,
        long seed,
        Data data,
        Schedule schedule,
        Compute compute,
        BadImages badImages,
        Path pretrained,
        boolean keepInitialCheckpoint) {

    /** Where to train: CUDA when available (AUTO), or forced. */
    public enum Device {
        AUTO,
        CPU,
        CUDA
    }

    /**
     * The data set: its layout and root as distributed ({@code layout} null: the embedded Fashion-MNIST demo, no root),
     * and whether JPEGs are turned upright by their EXIF tag (off by default, as torchvision's loader; the export
     * records it).
     */
    public record Data(Layout layout, Path root, boolean applyExifOrientation) {
        public Data {
            if (layout != null && root == null)
                throw new IllegalArgumentException("--layout " + layout + " needs --data DIR");
        }

        /** True for the embedded demo, which a run unpacks into its own folder. */
        public boolean isDemo() {
            return layout == null;
        }

        /** The class names a run records: the demo's IDX labels are digits, so it gets Fashion-MNIST's names (index order unchanged). */
        public List<String> classNames(Dataset dataset) {
            return isDemo() ? DemoData.CLASS_NAMES : dataset.classNames();
        }

        /** The authors' transform of this data set at a network input of {@code size} ({@link TransformSpec#forLayout}). */
        public TransformSpec transform(int size, boolean training) {
            return TransformSpec.forLayout(layout, size, training);
        }
    }

    /**
     * How long and in which steps: epochs of batches, StepLR (lr · γ^floor(epoch / step)), and at most
     * {@code maxBatchesPerEpoch} batches an epoch (0: all; fewer for tests and benchmarks).
     */
    public record Schedule(
            int epochs, int batchSize, double learningRate, int lrStepEpochs, double lrGamma, int maxBatchesPerEpoch) {
        public Schedule {
            if (epochs < 1) throw new IllegalArgumentException("--epochs must be >= 1, got " + epochs);
            if (batchSize < 2)
                throw new IllegalArgumentException(
                        "--batch-size must be >= 2 (BatchNorm needs two samples), got " + batchSize);
            if (!(learningRate > 0) || !Double.isFinite(learningRate))
                throw new IllegalArgumentException("--lr must be a finite number > 0, got " + learningRate);
            if (lrStepEpochs < 1) throw new IllegalArgumentException("--lr-step must be >= 1, got " + lrStepEpochs);
            // γ <= 0 would flip or zero the step (gradient ascent), γ > 1 grow it without bound: StepLR decays
            if (!(lrGamma > 0 && lrGamma <= 1))
                throw new IllegalArgumentException(
                        "--lr-gamma must be in (0, 1] (StepLR's decay factor, paper 0.1), got " + lrGamma);
            if (maxBatchesPerEpoch < 0)
                throw new IllegalArgumentException(
                        "--max-batches-per-epoch must be >= 0 (0: all), got " + maxBatchesPerEpoch);
        }

        /** StepLR: lr · γ^floor(epoch / step), as torch.optim.lr_scheduler.StepLR. */
        public double learningRateAt(int epoch) {
            return learningRate * Math.pow(lrGamma, Math.floorDiv(epoch, lrStepEpochs));
        }

        /** The batches an epoch trains when its loader has {@code batchesPerEpoch}: all, or the limit. */
        public int batchesOf(int batchesPerEpoch) {
            return maxBatchesPerEpoch > 0 ? Math.min(maxBatchesPerEpoch, batchesPerEpoch) : batchesPerEpoch;
        }
    }

    /**
     * Where and on how many threads: the device, ORT's intra-op threads and the decoding workers (0: one per core
     * each), and the CUDA provider's settings.
     */
    public record Compute(Device device, int threads, int workers, OrtAdapter.CudaOptions cuda) {
        public Compute {
            if (device == null) throw new IllegalArgumentException("--device must be one of auto, cpu, cuda");
            if (threads < 0)
                throw new IllegalArgumentException("--threads must be >= 0 (0: one per core), got " + threads);
            if (workers < 0)
                throw new IllegalArgumentException("--workers must be >= 0 (0: one per core), got " + workers);
            if (cuda == null) throw new IllegalArgumentException("cuda options must not be null");
        }

        /** ORT's intra-op threads: --threads, or one per core. */
        public int intraOpThreads() {
            return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        }

        /** Image decoding threads: --workers, or one per core ({@link LoaderOptions#workersFor}). */
        public int decodeWorkers() {
            return LoaderOptions.workersFor(workers);
        }
    }

    /**
     * Images that cannot be read: an error, or with {@code skip} skipped and counted, at most {@code max} distinct ones
     * over the whole run (a handful of broken downloads, not a broken data set).
     */
    public record BadImages(boolean skip, int max) {
        /** --max-bad-images when not given. */
        public static final int DEFAULT_MAX = 10;

        public BadImages {
            if (max < 0) throw new IllegalArgumentException("--max-bad-images must be >= 0, got " + max);
        }
    }

    public TrainOptions {
        if (spec == null || outDir == null || data == null || schedule == null || compute == null || badImages == null)
            throw new IllegalArgumentException(
                    "a run needs its spec, --out, data, schedule, compute and bad-image parts");
        requireSpecRanges(spec);
    }

    /** Options for {@code spec} into {@code outDir}: the spec's recipe, the command line's defaults for the rest (see {@link Builder}). */
    public static Builder builder(ModelSpec spec, Path outDir) {
        return new Builder(spec, outDir);
    }

    /** A builder holding these options, to change a few. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** The same options for another model spec and run folder (one row of `sef-onnx ablate`). */
    public TrainOptions withRun(ModelSpec newSpec, Path newOutDir) {
        return toBuilder().spec(newSpec).outDir(newOutDir).build();
    }

    /** The same options for {@code newEpochs} epochs (a resume that extends the run). */
    public TrainOptions withEpochs(int newEpochs) {
        return toBuilder().epochs(newEpochs).build();
    }

    /** The transform of this run's images at its spec's input size. */
    public TransformSpec transform(boolean training) {
        return data.transform(spec.imageSize(), training);
    }

    /**
     * Builds {@link TrainOptions} from flat settings, as the command line gives them. Defaults: the spec's recipe
     * (epochs, batch size, learning rate, StepLR period), StepLR factor 0.1 and seed 42 (the command line's), the
     * embedded demo (no layout), device AUTO, one thread and one loader worker per core (0), no bad images skipped, at
     * most {@value BadImages#DEFAULT_MAX} if they are, every batch, no --pretrained, EXIF ignored, the CUDA provider's
     * defaults, the initial checkpoint removed after epoch 1. {@link #build} range-checks everything.
     */
    public static final class Builder {
        private ModelSpec spec;
        private Path outDir;
        private long seed = 42;
        private Layout layout;
        private Path dataRoot;
        private boolean applyExifOrientation;
        private int epochs;
        private int batchSize;
        private double learningRate;
        private int lrStepEpochs;
        private double lrGamma = 0.1;
        private int maxBatchesPerEpoch;
        private Device device = Device.AUTO;
        private int threads;
        private int workers;
        private OrtAdapter.CudaOptions cuda = OrtAdapter.CudaOptions.defaults();
        private boolean skipBadImages;
        private int maxBadImages = BadImages.DEFAULT_MAX;
        private Path pretrained;
        private boolean keepInitialCheckpoint;

        private Builder(ModelSpec spec, Path outDir) {
            this.spec = spec;
            this.outDir = outDir;
            this.epochs = spec.epochs();
            this.batchSize = spec.batchSize();
            this.learningRate = spec.learningRate();
            this.lrStepEpochs = spec.lrStepEpochs();
        }

        private Builder(TrainOptions o) {
            spec = o.spec;
            outDir = o.outDir;
            seed = o.seed;
            layout = o.data.layout();
            dataRoot = o.data.root();
            applyExifOrientation = o.data.applyExifOrientation();
            epochs = o.schedule.epochs();
            batchSize = o.schedule.batchSize();
            learningRate = o.schedule.learningRate();
            lrStepEpochs = o.schedule.lrStepEpochs();
            lrGamma = o.schedule.lrGamma();
            maxBatchesPerEpoch = o.schedule.maxBatchesPerEpoch();
            device = o.compute.device();
            threads = o.compute.threads();
            workers = o.compute.workers();
            cuda = o.compute.cuda();
            skipBadImages = o.badImages.skip();
            maxBadImages = o.badImages.max();
            pretrained = o.pretrained;
            keepInitialCheckpoint = o.keepInitialCheckpoint;
        }

        public Builder spec(ModelSpec v) {
            spec = v;
            return this;
        }

        public Builder outDir(Path v) {
            outDir = v;
            return this;
        }

        public Builder seed(long v) {
            seed = v;
            return this;
        }

        /** The data set's layout and root; a null layout is the embedded demo. */
        public Builder data(Layout newLayout, Path root) {
            layout = newLayout;
            dataRoot = root;
            return this;
        }

        public Builder applyExifOrientation(boolean v) {
            applyExifOrientation = v;
            return this;
        }

        public Builder epochs(int v) {
            epochs = v;
            return this;
        }

        public Builder batchSize(int v) {
            batchSize = v;
            return this;
        }

        public Builder learningRate(double v) {
            learningRate = v;
            return this;
        }

        public Builder lrStepEpochs(int v) {
            lrStepEpochs = v;
            return this;
        }

        public Builder lrGamma(double v) {
            lrGamma = v;
            return this;
        }

        /** Batches per epoch at most (0: all); for tests and benchmarks. */
        public Builder maxBatchesPerEpoch(int v) {
            maxBatchesPerEpoch = v;
            return this;
        }

        public Builder device(Device v) {
            device = v;
            return this;
        }

        /** Intra-op threads of CPU training (0: one per core). */
        public Builder threads(int v) {
            threads = v;
            return this;
        }

        /** Image decoding workers (0: one per core). */
        public Builder workers(int v) {
            workers = v;
            return this;
        }

        public Builder cuda(OrtAdapter.CudaOptions v) {
            cuda = v;
            return this;
        }

        public Builder skipBadImages(boolean v) {
            skipBadImages = v;
            return this;
        }

        public Builder maxBadImages(int v) {
            maxBadImages = v;
            return this;
        }

        public Builder pretrained(Path v) {
            pretrained = v;
            return this;
        }

        /** Keep artifacts/checkpoint (the initial weights) once epoch 1 is committed. */
        public Builder keepInitialCheckpoint(boolean v) {
            keepInitialCheckpoint = v;
            return this;
        }

        public TrainOptions build() {
            return new TrainOptions(
                    spec,
                    outDir,
                    seed,
                    new Data(layout, dataRoot, applyExifOrientation),
                    new Schedule(epochs, batchSize, learningRate, lrStepEpochs, lrGamma, maxBatchesPerEpoch),
                    new Compute(device, threads, workers, cuda),
                    new BadImages(skipBadImages, maxBadImages),
                    pretrained,
                    keepInitialCheckpoint);
        }
    }

    /** The spec's training hyper-parameters (the generator checks only the graph's shape). */
    static void requireSpecRanges(ModelSpec s) {
        requireWeight("--lambda", s.lambda());
        requireWeight("--gamma", s.gamma());
        requireWeight("--phi", s.phi());
        if (!(s.momentum() >= 0 && s.momentum() < 1))
            throw new IllegalArgumentException("--momentum must be in [0, 1) (paper 0.9), got " + s.momentum());
        if (!(s.weightDecay() >= 0) || !Double.isFinite(s.weightDecay()))
            throw new IllegalArgumentException("--weight-decay must be a finite number >= 0, got " + s.weightDecay());
    }

    private static void requireWeight(String option, double v) {
        if (!(v >= 0) || !Double.isFinite(v))
            throw new IllegalArgumentException(option + " must be a finite number >= 0 (a loss-term weight), got " + v);
    }
}
