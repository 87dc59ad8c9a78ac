package org.sefonnx.generator.quantize;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.sefonnx.generator.onnx.DType;
import org.sefonnx.generator.weights.OnnxWeights;

/**
 * Every inference-mode BatchNormalization that reads a Conv's only output folded into that Conv, per output channel m
 * with s = γ / √(σ² + ε): W'[m] = W[m] · s, b' = (b − μ) · s + β, in double and then rounded once to float32 (ORT's
 * own ConvBNFusion does the same in float32 at session load for float models; a quantizer must do it before choosing
 * weight scales, because s spreads the channels' ranges). The folded Conv writes the BatchNormalization's output, so
 * the rest of the graph is untouched.
 */
public final class BatchNormFolding {
    /** Appended to a weight's name for its folded copy (layer names strip it again). */
    static final String FOLDED_WEIGHT_SUFFIX = ".bn_folded";

    private BatchNormFolding() {}

    /** The folded model and the names of the Convs that took a BatchNormalization in. */
    public record Result(ModelProto model, List<String> foldedConvolutions) {}

    /**
     * Folds {@code model}. A BatchNormalization is folded when its input is written by a Conv with a constant weight
     * (and bias, if any) whose output nothing else reads and that is not a graph output, its four parameters are
     * constants, and it has one output and is in inference mode; others stay as they are.
     */
    public static Result fold(ModelProto model) {
        GraphIndex index = new GraphIndex(model.getGraph());
        GraphProto g = model.getGraph();
        // each folded BatchNormalization's place in the graph takes its new Conv (after every input of both), the
        // old Conv's place is left out
        Map<NodeProto, NodeProto> foldedConvAt = new IdentityHashMap<>();
        Set<NodeProto> foldedAway = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        List<TensorProto> added = new ArrayList<>();
        List<String> folded = new ArrayList<>();
        for (NodeProto bn : g.getNodeList()) {
            if (!foldable(index, bn)) continue;
            NodeProto conv = index.producer(bn.getInput(0));
            String weightName = conv.getInput(1);
            TensorProto weight = index.initializer(weightName);
            float[] w = index.floats(weightName);
            int channels = (int) weight.getDims(0);
            int per = w.length / channels;
            float[] gamma = index.floats(bn.getInput(1)), beta = index.floats(bn.getInput(2));
            float[] mean = index.floats(bn.getInput(3)), variance = index.floats(bn.getInput(4));
            float[] bias = conv.getInputCount() > 2 && !conv.getInput(2).isEmpty()
                    ? index.floats(conv.getInput(2))
                    : new float[channels];
            double epsilon = GraphIndex.floatAttribute(bn, "epsilon", 1e-5f);
            float[] foldedW = new float[w.length];
            float[] foldedB = new float[channels];
            for (int m = 0; m < channels; m++) {
                double s = gamma[m] / Math.sqrt((double) variance[m] + epsilon);
                for (int i = m * per; i < (m + 1) * per; i++) foldedW[i] = (float) (w[i] * s);
                foldedB[m] = (float) (((double) bias[m] - mean[m]) * s + beta[m]);
            }
            String foldedWeight = weightName + FOLDED_WEIGHT_SUFFIX, foldedBias = bn.getOutput(0) + ".bn_folded_bias";
            added.add(floatInitializer(foldedWeight, GraphIndex.dims(weight), foldedW));
            added.add(floatInitializer(foldedBias, new long[] {channels}, foldedB));
            foldedAway.add(conv);
            foldedConvAt.put(
                    bn,
                    conv.toBuilder()
                            .clearInput()
                            .addInput(conv.getInput(0))
                            .addInput(foldedWeight)
                            .addInput(foldedBias)
                            .setOutput(0, bn.getOutput(0))
                            .build());
            folded.add(conv.getName());
        }
        GraphProto.Builder out = g.toBuilder().clearNode();
        for (NodeProto n : g.getNodeList()) {
            if (foldedAway.contains(n)) continue;
            out.addNode(foldedConvAt.getOrDefault(n, n));
        }
        out.addAllInitializer(added);
        return new Result(
                model.toBuilder()
                        .setGraph(GraphIndex.withoutUnusedInitializers(out.build()))
                        .build(),
                folded);
    }

    private static boolean foldable(GraphIndex index, NodeProto bn) {
        if (!bn.getOpType().equals("BatchNormalization") || !bn.getDomain().isEmpty()) return false;
        if (GraphIndex.intAttribute(bn, "training_mode", 0) != 0) return false;
        if (bn.getOutputList().stream().skip(1).anyMatch(o -> !o.isEmpty())) return false;
        for (int i = 1; i < 5; i++) if (!index.isInitializer(bn.getInput(i))) return false;
        NodeProto conv = index.producer(bn.getInput(0));
        if (conv == null
                || !conv.getOpType().equals("Conv")
                || !conv.getDomain().isEmpty()) return false;
        if (index.consumers(conv.getOutput(0)).size() != 1 || index.isGraphOutput(conv.getOutput(0))) return false;
        if (!index.isInitializer(conv.getInput(1))) return false;
        boolean hasBias = conv.getInputCount() > 2 && !conv.getInput(2).isEmpty();
        return !hasBias || index.isInitializer(conv.getInput(2));
    }

    static TensorProto floatInitializer(String name, long[] dims, float[] values) {
        TensorProto.Builder t = TensorProto.newBuilder()
                .setName(name)
                .setDataType(DType.FLOAT.onnxCode)
                .setRawData(OnnxWeights.rawFloats(values));
        for (long d : dims) t.addDims(d);
        return t.build();
    }
}
