package org.sefonnx.train.train;

import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.train.data.Layout;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What a training run does. {@code layout} null means the embedded Fashion-MNIST demo. {@code maxBatchesPerEpoch}
 * 0 means all (smaller values are for tests and benchmarks).
 */
public record TrainOptions(ModelSpec spec, Layout layout, Path dataRoot, Path outDir, int epochs, int batchSize,
                           double learningRate, int lrStepEpochs, double lrGamma, long seed, Device device, int threads,
                           int workers, boolean skipBadImages, boolean cudnnExhaustiveSearch, int maxBatchesPerEpoch,
                           Path pretrained) {

    /** Where to train: CUDA when available (AUTO), or forced. */
    public enum Device { AUTO, CPU, CUDA }

    public TrainOptions {
        if (epochs < 1) throw new IllegalArgumentException("--epochs must be >= 1, got " + epochs);
        if (batchSize < 2) throw new IllegalArgumentException("--batch-size must be >= 2 (BatchNorm needs two samples), got " + batchSize);
        if (!(learningRate > 0)) throw new IllegalArgumentException("--lr must be > 0, got " + learningRate);
        if (lrStepEpochs < 1) throw new IllegalArgumentException("--lr-step must be >= 1, got " + lrStepEpochs);
        if (layout != null && dataRoot == null) throw new IllegalArgumentException("--layout " + layout + " needs --data DIR");
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
        return m;
    }
}
