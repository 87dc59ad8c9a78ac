package org.sefonnx.train.train;

import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.train.data.Layout;
import org.sefonnx.train.ort.OrtAdapter;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What a training run does. {@code layout} null means the embedded Fashion-MNIST demo. {@code maxBatchesPerEpoch}
 * 0 means all (smaller values are for tests and benchmarks). {@code maxBadImages} bounds how many distinct images
 * {@code skipBadImages} may skip over the whole run; {@code applyExifOrientation} turns JPEGs upright by their EXIF tag
 * (off by default, as torchvision's loader; the export records it). Every field is range-checked here, before anything is written,
 * with the command-line option named.
 */
public record TrainOptions(ModelSpec spec, Layout layout, Path dataRoot, Path outDir, int epochs, int batchSize,
                           double learningRate, int lrStepEpochs, double lrGamma, long seed, Device device, int threads,
                           int workers, boolean skipBadImages, boolean cudnnExhaustiveSearch, int maxBatchesPerEpoch,
                           Path pretrained, int maxBadImages, boolean applyExifOrientation, OrtAdapter.CudaOptions cuda) {

    /** Where to train: CUDA when available (AUTO), or forced. */
    public enum Device { AUTO, CPU, CUDA }

    /** --max-bad-images when not given: a handful of broken downloads, not a broken data set. */
    public static final int DEFAULT_MAX_BAD_IMAGES = 10;

    public TrainOptions {
        if (epochs < 1) throw new IllegalArgumentException("--epochs must be >= 1, got " + epochs);
        if (batchSize < 2) throw new IllegalArgumentException("--batch-size must be >= 2 (BatchNorm needs two samples), got " + batchSize);
        if (!(learningRate > 0) || !Double.isFinite(learningRate)) throw new IllegalArgumentException("--lr must be a finite number > 0, got " + learningRate);
        if (lrStepEpochs < 1) throw new IllegalArgumentException("--lr-step must be >= 1, got " + lrStepEpochs);
        // γ <= 0 would flip or zero the step (gradient ascent), γ > 1 grow it without bound: StepLR decays
        if (!(lrGamma > 0 && lrGamma <= 1)) throw new IllegalArgumentException("--lr-gamma must be in (0, 1] (StepLR's decay factor, paper 0.1), got " + lrGamma);
        if (threads < 0) throw new IllegalArgumentException("--threads must be >= 0 (0: one per core), got " + threads);
        if (workers < 0) throw new IllegalArgumentException("--workers must be >= 0 (0: one per core), got " + workers);
        if (maxBatchesPerEpoch < 0) throw new IllegalArgumentException("--max-batches-per-epoch must be >= 0 (0: all), got " + maxBatchesPerEpoch);
        if (maxBadImages < 0) throw new IllegalArgumentException("--max-bad-images must be >= 0, got " + maxBadImages);
        if (layout != null && dataRoot == null) throw new IllegalArgumentException("--layout " + layout + " needs --data DIR");
        requireSpecRanges(spec);
        if (cuda == null) throw new IllegalArgumentException("cuda options must not be null");
        if (cudnnExhaustiveSearch && cuda.convAlgorithmSearch() == OrtAdapter.CudaOptions.ConvAlgorithmSearch.DEFAULT) {
            throw new IllegalArgumentException("--cudnn-exhaustive contradicts --cudnn-conv-algo-search default; give one of them");
        }
    }

    /** The options before --max-bad-images and the CUDA settings existed: the default bound and CUDA's defaults. */
    public TrainOptions(ModelSpec spec, Layout layout, Path dataRoot, Path outDir, int epochs, int batchSize, double learningRate,
                        int lrStepEpochs, double lrGamma, long seed, Device device, int threads, int workers, boolean skipBadImages,
                        boolean cudnnExhaustiveSearch, int maxBatchesPerEpoch, Path pretrained) {
        this(spec, layout, dataRoot, outDir, epochs, batchSize, learningRate, lrStepEpochs, lrGamma, seed, device, threads, workers,
                skipBadImages, cudnnExhaustiveSearch, maxBatchesPerEpoch, pretrained, DEFAULT_MAX_BAD_IMAGES, false);
    }

    /** The same with the CUDA provider's defaults (cuDNN HEURISTIC search unless {@code cudnnExhaustiveSearch}). */
    public TrainOptions(ModelSpec spec, Layout layout, Path dataRoot, Path outDir, int epochs, int batchSize, double learningRate,
                        int lrStepEpochs, double lrGamma, long seed, Device device, int threads, int workers, boolean skipBadImages,
                        boolean cudnnExhaustiveSearch, int maxBatchesPerEpoch, Path pretrained, int maxBadImages, boolean applyExifOrientation) {
        this(spec, layout, dataRoot, outDir, epochs, batchSize, learningRate, lrStepEpochs, lrGamma, seed, device, threads, workers,
                skipBadImages, cudnnExhaustiveSearch, maxBatchesPerEpoch, pretrained, maxBadImages, applyExifOrientation, OrtAdapter.CudaOptions.defaults());
    }

    public TrainOptions withCuda(OrtAdapter.CudaOptions newCuda) {
        return new TrainOptions(spec, layout, dataRoot, outDir, epochs, batchSize, learningRate, lrStepEpochs, lrGamma, seed, device, threads,
                workers, skipBadImages, cudnnExhaustiveSearch, maxBatchesPerEpoch, pretrained, maxBadImages, applyExifOrientation, newCuda);
    }

    /** The same options for another model spec and run folder (one row of `sef-onnx ablate`). */
    public TrainOptions withRun(ModelSpec newSpec, Path newOutDir) {
        return new TrainOptions(newSpec, layout, dataRoot, newOutDir, epochs, batchSize, learningRate, lrStepEpochs, lrGamma, seed, device, threads,
                workers, skipBadImages, cudnnExhaustiveSearch, maxBatchesPerEpoch, pretrained, maxBadImages, applyExifOrientation, cuda);
    }

    /** The CUDA provider settings in effect: {@code --cudnn-exhaustive} is short for EXHAUSTIVE search. */
    public OrtAdapter.CudaOptions cudaOptions() {
        return cudnnExhaustiveSearch ? cuda.withConvAlgorithmSearch(OrtAdapter.CudaOptions.ConvAlgorithmSearch.EXHAUSTIVE) : cuda;
    }

    /** Reads the {@code cuda.*} keys of {@link #asMap()} (absent keys: the defaults, as in runs made before them). */
    public static OrtAdapter.CudaOptions cudaFrom(java.util.function.Function<String, String> properties) {
        OrtAdapter.CudaOptions d = OrtAdapter.CudaOptions.defaults();
        String search = properties.apply("cuda.convAlgorithmSearch"), workspace = properties.apply("cuda.maxWorkspace"), tf32 = properties.apply("cuda.tf32");
        return new OrtAdapter.CudaOptions(search == null ? d.convAlgorithmSearch() : OrtAdapter.CudaOptions.ConvAlgorithmSearch.valueOf(search.toUpperCase(Locale.ROOT)),
                workspace == null ? d.maxWorkspace() : Boolean.parseBoolean(workspace), tf32 == null ? d.tf32() : Boolean.parseBoolean(tf32));
    }

    /** The spec's training hyper-parameters (the generator checks only the graph's shape). */
    static void requireSpecRanges(ModelSpec s) {
        requireWeight("--lambda", s.lambda());
        requireWeight("--gamma", s.gamma());
        requireWeight("--phi", s.phi());
        if (!(s.momentum() >= 0 && s.momentum() < 1)) throw new IllegalArgumentException("--momentum must be in [0, 1) (paper 0.9), got " + s.momentum());
        if (!(s.weightDecay() >= 0) || !Double.isFinite(s.weightDecay())) throw new IllegalArgumentException("--weight-decay must be a finite number >= 0, got " + s.weightDecay());
    }

    private static void requireWeight(String option, double v) {
        if (!(v >= 0) || !Double.isFinite(v)) throw new IllegalArgumentException(option + " must be a finite number >= 0 (a loss-term weight), got " + v);
    }

    /** Parses --exif-orientation: ignore (false) or apply (true). */
    public static boolean parseExifOrientation(String value) {
        return switch (value) {
            case "ignore" -> false;
            case "apply" -> true;
            default -> throw new IllegalArgumentException("--exif-orientation must be one of ignore, apply; got '" + value + "'");
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

    public Map<String, String> asMap() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("data.layout", layout == null ? "demo" : layout.name().toLowerCase(Locale.ROOT));
        m.put("data.root", dataRoot == null ? "" : dataRoot.toAbsolutePath().toString());
        m.put("epochs", Integer.toString(epochs));
        m.put("batchSize", Integer.toString(batchSize));
        m.put("learningRate", Double.toString(learningRate));
        m.put("lrStepEpochs", Integer.toString(lrStepEpochs));
        m.put("lrGamma", Double.toString(lrGamma));
        m.put("seed", Long.toString(seed));
        m.put("device", device.name().toLowerCase(Locale.ROOT));
        m.put("threads", Integer.toString(threads));
        m.put("workers", Integer.toString(workers));
        m.put("skipBadImages", Boolean.toString(skipBadImages));
        m.put("maxBatchesPerEpoch", Integer.toString(maxBatchesPerEpoch));
        m.put("pretrained", pretrained == null ? "" : pretrained.toAbsolutePath().toString());
        m.put("maxBadImages", Integer.toString(maxBadImages));
        m.put("exifOrientation", applyExifOrientation ? "apply" : "ignore");
        OrtAdapter.CudaOptions c = cudaOptions();
        m.put("cuda.convAlgorithmSearch", c.convAlgorithmSearch().name().toLowerCase(Locale.ROOT));
        m.put("cuda.maxWorkspace", Boolean.toString(c.maxWorkspace()));
        m.put("cuda.tf32", Boolean.toString(c.tf32()));
        return m;
    }
}
