package org.sefonnx.train.run;

import java.nio.file.Path;
import java.util.Locale;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.train.data.Layout;
import org.sefonnx.train.ort.OrtAdapter;

/**
 * What a training run does. {@code layout} null means the embedded Fashion-MNIST demo. {@code maxBatchesPerEpoch}
 * 0 means all (smaller values are for tests and benchmarks). {@code maxBadImages} bounds how many distinct images
 * {@code skipBadImages} may skip over the whole run; {@code applyExifOrientation} turns JPEGs upright by their EXIF tag
 * (off by default, as torchvision's loader; the export records it). {@code keepInitialCheckpoint} keeps
 * {@code artifacts/checkpoint} (the initial weights) after the first epoch is committed, when nothing needs it any more.
 * Every field is range-checked here, before anything is written, with the command-line option named.
 */
public record TrainOptions(
        ModelSpec spec,
        Layout layout,
        Path dataRoot,
        Path outDir,
        int epochs,
        int batchSize,
        double learningRate,
        int lrStepEpochs,
        double lrGamma,
        long seed,
        Device device,
        int threads,
        int workers,
        boolean skipBadImages,
        int maxBatchesPerEpoch,
        Path pretrained,
        int maxBadImages,
        boolean applyExifOrientation,
        OrtAdapter.CudaOptions cuda,
        boolean keepInitialCheckpoint) {

    /** Where to train: CUDA when available (AUTO), or forced. */
    public enum Device {
        AUTO,
        CPU,
        CUDA
    }

    /** --max-bad-images when not given: a handful of broken downloads, not a broken data set. */
    public static final int DEFAULT_MAX_BAD_IMAGES = 10;

    public TrainOptions {
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
        if (threads < 0) throw new IllegalArgumentException("--threads must be >= 0 (0: one per core), got " + threads);
        if (workers < 0) throw new IllegalArgumentException("--workers must be >= 0 (0: one per core), got " + workers);
        if (maxBatchesPerEpoch < 0)
            throw new IllegalArgumentException(
                    "--max-batches-per-epoch must be >= 0 (0: all), got " + maxBatchesPerEpoch);
        if (maxBadImages < 0) throw new IllegalArgumentException("--max-bad-images must be >= 0, got " + maxBadImages);
        if (layout != null && dataRoot == null)
            throw new IllegalArgumentException("--layout " + layout + " needs --data DIR");
        requireSpecRanges(spec);
        if (cuda == null) throw new IllegalArgumentException("cuda options must not be null");
    }

    /** Options for {@code spec} into {@code outDir}: the spec's recipe, the command line's defaults for the rest (see {@link Builder}). */
    public static Builder builder(ModelSpec spec, Path outDir) {
        return new Builder(spec, outDir);
    }

    /** A builder holding these options, to change a few. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    public TrainOptions withCuda(OrtAdapter.CudaOptions newCuda) {
        return toBuilder().cuda(newCuda).build();
    }

    /** The same options for another model spec and run folder (one row of `sef-onnx ablate`). */
    public TrainOptions withRun(ModelSpec newSpec, Path newOutDir) {
        return toBuilder().spec(newSpec).outDir(newOutDir).build();
    }

    /** The same options for {@code newEpochs} epochs (a resume that extends the run). */
    public TrainOptions withEpochs(int newEpochs) {
        return toBuilder().epochs(newEpochs).build();
    }

    /**
     * Builds {@link TrainOptions}. Defaults: the spec's recipe (epochs, batch size, learning rate, StepLR period), StepLR
     * factor 0.1 and seed 42 (the command line's), the embedded demo (no layout), device AUTO, one thread and one
     * loader worker per core (0), no bad images skipped, at most {@value #DEFAULT_MAX_BAD_IMAGES} if they are, every
     * batch, no --pretrained, EXIF ignored, the CUDA provider's defaults, the initial checkpoint removed after epoch 1.
     * {@link #build} range-checks everything.
     */
    public static final class Builder {
        private ModelSpec spec;
        private Layout layout;
        private Path dataRoot;
        private Path outDir;
        private int epochs;
        private int batchSize;
        private double learningRate;
        private int lrStepEpochs;
        private double lrGamma = 0.1;
        private long seed = 42;
        private Device device = Device.AUTO;
        private int threads;
        private int workers;
        private boolean skipBadImages;
        private int maxBatchesPerEpoch;
        private Path pretrained;
        private int maxBadImages = DEFAULT_MAX_BAD_IMAGES;
        private boolean applyExifOrientation;
        private OrtAdapter.CudaOptions cuda = OrtAdapter.CudaOptions.defaults();
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
            layout = o.layout;
            dataRoot = o.dataRoot;
            outDir = o.outDir;
            epochs = o.epochs;
            batchSize = o.batchSize;
            learningRate = o.learningRate;
            lrStepEpochs = o.lrStepEpochs;
            lrGamma = o.lrGamma;
            seed = o.seed;
            device = o.device;
            threads = o.threads;
            workers = o.workers;
            skipBadImages = o.skipBadImages;
            maxBatchesPerEpoch = o.maxBatchesPerEpoch;
            pretrained = o.pretrained;
            maxBadImages = o.maxBadImages;
            applyExifOrientation = o.applyExifOrientation;
            cuda = o.cuda;
            keepInitialCheckpoint = o.keepInitialCheckpoint;
        }

        public Builder spec(ModelSpec v) {
            spec = v;
            return this;
        }
        /** The data set's layout and root; a null layout is the embedded demo. */
        public Builder data(Layout newLayout, Path root) {
            layout = newLayout;
            dataRoot = root;
            return this;
        }

        public Builder outDir(Path v) {
            outDir = v;
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

        public Builder seed(long v) {
            seed = v;
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

        public Builder skipBadImages(boolean v) {
            skipBadImages = v;
            return this;
        }

        public Builder maxBadImages(int v) {
            maxBadImages = v;
            return this;
        }

        /** Batches per epoch at most (0: all); for tests and benchmarks. */
        public Builder maxBatchesPerEpoch(int v) {
            maxBatchesPerEpoch = v;
            return this;
        }

        public Builder pretrained(Path v) {
            pretrained = v;
            return this;
        }

        public Builder applyExifOrientation(boolean v) {
            applyExifOrientation = v;
            return this;
        }

        public Builder cuda(OrtAdapter.CudaOptions v) {
            cuda = v;
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
                    layout,
                    dataRoot,
                    outDir,
                    epochs,
                    batchSize,
                    learningRate,
                    lrStepEpochs,
                    lrGamma,
                    seed,
                    device,
                    threads,
                    workers,
                    skipBadImages,
                    maxBatchesPerEpoch,
                    pretrained,
                    maxBadImages,
                    applyExifOrientation,
                    cuda,
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

    /** Parses --exif-orientation: ignore (false) or apply (true). */
    public static boolean parseExifOrientation(String value) {
        return switch (value) {
            case "ignore" -> false;
            case "apply" -> true;
            default ->
                throw new IllegalArgumentException(
                        "--exif-orientation must be one of ignore, apply; got '" + value + "'");
        };
    }

    /** Parses --device, listing the valid values. */
    public static Device parseDevice(String name) {
        try {
            return Device.valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--device must be one of auto, cpu, cuda; got '" + name + "'");
        }
    }

    /** StepLR: lr · γ^floor(epoch / step), as torch.optim.lr_scheduler.StepLR. */
    public double learningRateAt(int epoch) {
        return learningRate * Math.pow(lrGamma, Math.floorDiv(epoch, lrStepEpochs));
    }
}
