package org.sefonnx.generator.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.sefonnx.contract.GroupSplit;
import org.sefonnx.contract.Precision;

/**
 * Everything that fixes the generated graphs and the recipe defaults of one SEF model.
 *
 * @param id             file-system friendly identifier, also the artifact directory name
 * @param depth          ResNet depth: 18, 34 or 50
 * @param numClasses     K
 * @param groups         G, the number of contiguous channel groups of the last feature map
 * @param imageSize      training crop / input side in pixels (graphs are built for this fixed size)
 * @param lambda         weight of the entropy term E (added as +λ·E, which maximises H(P_w))
 * @param gamma          weight of the distillation term S
 * @param phi            weight of the grouping loss
 * @param groupingLoss   CODE (the authors' code, default) or PAPER (the paper's Frobenius form)
 * @param optimizer      SGD_MOMENTUM (the paper's) or ADAMW
 * @param momentum       μ of momentum SGD (PyTorch form m = μ·m + g)
 * @param weightDecay    L2 weight decay added to the gradient (SGD) or decoupled (AdamW)
 * @param learningRate   recipe default initial learning rate (not baked into the graphs)
 * @param lrStepEpochs   recipe default StepLR period (×0.1)
 * @param epochs         recipe default number of epochs
 * @param batchSize      recipe default batch size
 * @param precision      FP32, or FP16 mixed precision (fp16 compute, fp32 master weights and losses, loss scaling)
 */
public record ModelSpec(
        String id,
        int depth,
        int numClasses,
        int groups,
        int imageSize,
        double lambda,
        double gamma,
        double phi,
        GroupingLossForm groupingLoss,
        Optimizer optimizer,
        double momentum,
        double weightDecay,
        double learningRate,
        int lrStepEpochs,
        int epochs,
        int batchSize,
        Precision precision) {

    /** Which grouping loss: see docs/sef-method.md, "Code versus paper". */
    public enum GroupingLossForm {
        CODE,
        PAPER
    }

    public enum Optimizer {
        SGD_MOMENTUM,
        ADAMW
    }

    /** BatchNorm's ε, torch.nn.BatchNorm2d's default. */
    public static final double BN_EPSILON = 1e-5;
    /** BatchNorm's running-statistics momentum, torch.nn.BatchNorm2d's default: r' = (1 − 0.1)·r + 0.1·batch. */
    public static final double BN_MOMENTUM = 0.1;
    /** ε in n_i = X_i / (‖X_i‖ + ε): float32 machine epsilon, as the authors' code. */
    public static final double GROUPING_EPSILON = 1.1920929e-07;

    public ModelSpec {
        if (id == null || !id.matches("[a-z0-9][a-z0-9._-]*"))
            throw new IllegalArgumentException("spec id must match [a-z0-9][a-z0-9._-]*, got '" + id + "'");
        if (depth != 18 && depth != 34 && depth != 50)
            throw new IllegalArgumentException("depth must be 18, 34 or 50, got " + depth);
        if (numClasses < 2) throw new IllegalArgumentException("numClasses must be >= 2, got " + numClasses);
        if (groups < 1) throw new IllegalArgumentException("groups must be >= 1, got " + groups);
        if (groups > featureChannels(depth))
            throw new IllegalArgumentException("groups must be <= " + featureChannels(depth));
        if (imageSize < 32)
            throw new IllegalArgumentException("imageSize must be >= 32 (ResNet downsamples by 32), got " + imageSize);
        if (batchSize < 2)
            throw new IllegalArgumentException(
                    "batchSize must be >= 2 (BatchNorm needs two samples), got " + batchSize);
        if (precision == null) throw new IllegalArgumentException("precision must be fp32 or fp16, got null");
    }

    /** A spec with the paper's defaults (λ=1, γ=0.05, φ=1, SGD μ=0.9, lr 0.01, StepLR 20, 50 epochs, batch 32). */
    public static ModelSpec of(String id, int depth, int numClasses, int groups, int imageSize) {
        return builder(id, depth, numClasses, groups, imageSize).build();
    }

    /** A builder for the graph-fixing fields given and the paper's defaults for the rest (as {@link #of}). */
    public static Builder builder(String id, int depth, int numClasses, int groups, int imageSize) {
        return new Builder(id, depth, numClasses, groups, imageSize);
    }

    /** A builder holding this spec, to change a few fields. */
    public Builder toBuilder() {
        return new Builder(id, depth, numClasses, groups, imageSize)
                .lambda(lambda)
                .gamma(gamma)
                .phi(phi)
                .groupingLoss(groupingLoss)
                .optimizer(optimizer)
                .momentum(momentum)
                .weightDecay(weightDecay)
                .learningRate(learningRate)
                .lrStepEpochs(lrStepEpochs)
                .epochs(epochs)
                .batchSize(batchSize)
                .precision(precision);
    }

    public ModelSpec withId(String newId) {
        return toBuilder().id(newId).build();
    }

    public ModelSpec withLosses(double newLambda, double newGamma, double newPhi, GroupingLossForm form) {
        return toBuilder()
                .lambda(newLambda)
                .gamma(newGamma)
                .phi(newPhi)
                .groupingLoss(form)
                .build();
    }

    public ModelSpec withOptimizer(Optimizer newOptimizer, double newMomentum, double newWeightDecay) {
        return toBuilder()
                .optimizer(newOptimizer)
                .momentum(newMomentum)
                .weightDecay(newWeightDecay)
                .build();
    }

    public ModelSpec withRecipe(double newLearningRate, int newLrStepEpochs, int newEpochs, int newBatchSize) {
        return toBuilder()
                .learningRate(newLearningRate)
                .lrStepEpochs(newLrStepEpochs)
                .epochs(newEpochs)
                .batchSize(newBatchSize)
                .build();
    }

    public ModelSpec withImageSize(int newImageSize) {
        return toBuilder().imageSize(newImageSize).build();
    }

    public ModelSpec withPrecision(Precision newPrecision) {
        return toBuilder().precision(newPrecision).build();
    }

    /**
     * Builds a {@link ModelSpec}; the fields not set keep the paper's defaults (λ=1, γ=0.05, φ=1, the authors' grouping
     * loss, SGD μ=0.9 without weight decay, lr 0.01, StepLR 20, 50 epochs, batch 32, float32). The spec's own
     * constructor checks the result.
     */
    public static final class Builder {
        private String id;
        private int depth;
        private int numClasses;
        private int groups;
        private int imageSize;
        private double lambda = 1.0;
        private double gamma = 0.05;
        private double phi = 1.0;
        private GroupingLossForm groupingLoss = GroupingLossForm.CODE;
        private Optimizer optimizer = Optimizer.SGD_MOMENTUM;
        private double momentum = 0.9;
        private double weightDecay = 0.0;
        private double learningRate = 0.01;
        private int lrStepEpochs = 20;
        private int epochs = 50;
        private int batchSize = 32;
        private Precision precision = Precision.FP32;

        private Builder(String id, int depth, int numClasses, int groups, int imageSize) {
            this.id = id;
            this.depth = depth;
            this.numClasses = numClasses;
            this.groups = groups;
            this.imageSize = imageSize;
        }

        public Builder id(String v) {
            id = v;
            return this;
        }

        /** ResNet depth: 18, 34 or 50. */
        public Builder depth(int v) {
            depth = v;
            return this;
        }

        /** K, the number of classes. */
        public Builder numClasses(int v) {
            numClasses = v;
            return this;
        }

        /** G, the channel groups of the last feature map. */
        public Builder groups(int v) {
            groups = v;
            return this;
        }

        public Builder imageSize(int v) {
            imageSize = v;
            return this;
        }
        /** Weight λ of the entropy term E. */
        public Builder lambda(double v) {
            lambda = v;
            return this;
        }
        /** Weight γ of the distillation term S. */
        public Builder gamma(double v) {
            gamma = v;
            return this;
        }
        /** Weight φ of the grouping loss. */
        public Builder phi(double v) {
            phi = v;
            return this;
        }

        public Builder groupingLoss(GroupingLossForm v) {
            groupingLoss = v;
            return this;
        }

        public Builder optimizer(Optimizer v) {
            optimizer = v;
            return this;
        }

        public Builder momentum(double v) {
            momentum = v;
            return this;
        }

        public Builder weightDecay(double v) {
            weightDecay = v;
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

        public Builder epochs(int v) {
            epochs = v;
            return this;
        }

        public Builder batchSize(int v) {
            batchSize = v;
            return this;
        }

        public Builder precision(Precision v) {
            precision = v;
            return this;
        }

        public ModelSpec build() {
            return new ModelSpec(
                    id,
                    depth,
                    numClasses,
                    groups,
                    imageSize,
                    lambda,
                    gamma,
                    phi,
                    groupingLoss,
                    optimizer,
                    momentum,
                    weightDecay,
                    learningRate,
                    lrStepEpochs,
                    epochs,
                    batchSize,
                    precision);
        }
    }

    /** C: channels of the last feature map (512 for BasicBlock ResNets, 2048 for ResNet-50). */
    public static int featureChannels(int depth) {
        return depth == 50 ? 2048 : 512;
    }

    public int featureChannels() {
        return featureChannels(depth);
    }

    /** The channel groups of the last feature map: SEF's split, which the export records ({@link GroupSplit#even}). */
    public GroupSplit groupSplit() {
        return GroupSplit.even(featureChannels(), groups);
    }

    /** Channels per group: floor(C/G) each, the last group also takes the remainder. */
    public int[] groupChannels() {
        return groupSplit().channels();
    }

    /** First channel of each group. */
    public int[] groupStarts() {
        return groupSplit().starts();
    }

    /** Spatial side of the last feature map. */
    public int featureMapSize() {
        int s = (imageSize + 2 * 3 - 7) / 2 + 1; // conv1 7x7/2 pad 3
        s = (s + 2 - 3) / 2 + 1; // maxpool 3x3/2 pad 1
        for (int i = 0; i < 3; i++) s = (s + 2 - 3) / 2 + 1; // stride-2 3x3 convs of layers 2-4
        return s;
    }

    /** Stable text form, one key=value per line; what the checkpoint's property bag stores. */
    public String toProperties() {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, String> e : asMap().entrySet())
            sb.append(e.getKey()).append('=').append(e.getValue()).append('\n');
        return sb.toString();
    }

    public Map<String, String> asMap() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("depth", Integer.toString(depth));
        m.put("numClasses", Integer.toString(numClasses));
        m.put("groups", Integer.toString(groups));
        m.put("imageSize", Integer.toString(imageSize));
        m.put("lambda", num(lambda));
        m.put("gamma", num(gamma));
        m.put("phi", num(phi));
        m.put("groupingLoss", groupingLoss.name().toLowerCase(Locale.ROOT));
        m.put("optimizer", optimizer.name().toLowerCase(Locale.ROOT).replace('_', '-'));
        m.put("momentum", num(momentum));
        m.put("weightDecay", num(weightDecay));
        m.put("learningRate", num(learningRate));
        m.put("lrStepEpochs", Integer.toString(lrStepEpochs));
        m.put("epochs", Integer.toString(epochs));
        m.put("batchSize", Integer.toString(batchSize));
        // absent means fp32, so that every float32 spec text (and the graphs and checkpoints embedding it) stays as it
        // was
        if (precision != Precision.FP32) m.put("precision", precision.label());
        return m;
    }

    private static String num(double d) {
        return Double.toString(d);
    }

    /** Parses {@link #toProperties()} output; {@code source} names where the text came from, for error messages. */
    public static ModelSpec parse(String text, String source) {
        Map<String, String> m = new LinkedHashMap<>();
        int lineNo = 0;
        for (String line : text.split("\n")) {
            lineNo++;
            line = line.strip();
            if (line.isEmpty() || line.startsWith("#")) continue;
            int eq = line.indexOf('=');
            if (eq < 0)
                throw new IllegalArgumentException(source + ":" + lineNo + ": expected key=value, got '" + line + "'");
            m.put(line.substring(0, eq).strip(), line.substring(eq + 1).strip());
        }
        List<String> missing = new ArrayList<>();
        for (String k : List.of("id", "depth", "numClasses", "groups", "imageSize"))
            if (!m.containsKey(k)) missing.add(k);
        if (!missing.isEmpty()) throw new IllegalArgumentException(source + ": missing spec fields " + missing);
        ModelSpec d = of(
                m.get("id"),
                intField(m, "depth", source, 0),
                intField(m, "numClasses", source, 0),
                intField(m, "groups", source, 0),
                intField(m, "imageSize", source, 0));
        return d.toBuilder()
                .lambda(dblField(m, "lambda", source, d.lambda))
                .gamma(dblField(m, "gamma", source, d.gamma))
                .phi(dblField(m, "phi", source, d.phi))
                .groupingLoss(GroupingLossForm.valueOf(
                        m.getOrDefault("groupingLoss", "code").toUpperCase(Locale.ROOT)))
                .optimizer(Optimizer.valueOf(m.getOrDefault("optimizer", "sgd-momentum")
                        .toUpperCase(Locale.ROOT)
                        .replace('-', '_')))
                .momentum(dblField(m, "momentum", source, d.momentum))
                .weightDecay(dblField(m, "weightDecay", source, d.weightDecay))
                .learningRate(dblField(m, "learningRate", source, d.learningRate))
                .lrStepEpochs(intField(m, "lrStepEpochs", source, d.lrStepEpochs))
                .epochs(intField(m, "epochs", source, d.epochs))
                .batchSize(intField(m, "batchSize", source, d.batchSize))
                .precision(Precision.parse(m.getOrDefault("precision", Precision.FP32.label()), source))
                .build();
    }

    private static int intField(Map<String, String> m, String k, String source, int dflt) {
        String v = m.get(k);
        if (v == null) return dflt;
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(source + ": field " + k + " must be an integer, got '" + v + "'");
        }
    }

    private static double dblField(Map<String, String> m, String k, String source, double dflt) {
        String v = m.get(k);
        if (v == null) return dflt;
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(source + ": field " + k + " must be a number, got '" + v + "'");
        }
    }
}
