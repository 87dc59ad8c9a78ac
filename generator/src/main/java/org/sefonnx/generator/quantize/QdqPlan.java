package org.sefonnx.generator.quantize;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which nodes of a BatchNorm-folded float model run in int8 and which tensors carry uint8 values between them, chosen
 * by the patterns ONNX Runtime's CPU provider turns into integer kernels (docs/int8.md, "What ORT fuses"):
 *
 * <ul>
 *   <li>a Conv with constant weights becomes QLinearConv; a ReLU that alone reads its output is absorbed into the
 *       output's quantization (zero point 0 clamps at zero, which is the ReLU);
 *   <li>an Add of two activations (the residual) becomes QLinearAdd, absorbing its ReLU the same way;
 *   <li>a MaxPool whose input is such an output pools the uint8 values directly, with its input's scale and zero
 *       point, and is re-emitted without its Indices output, which blocks the uint8 kernel;
 * </ul>
 *
 * Everything else (the global average pool, the classifier, the group heads, softmax) reads dequantized float32
 * values, and any Conv or Add named in {@code floatLayers} stays float32 too. A {@link Unit} is one such int8 node.
 */
public final class QdqPlan {
    /** The kinds of node that run in int8. */
    public enum Kind {
        CONV,
        ADD,
        MAX_POOL
    }

    /**
     * One node that runs in int8: its kind, the layer name it goes by, its activation inputs, the tensor its output
     * quantization stands for ({@code output}: the absorbed ReLU's output when there is one) and the value the node
     * itself writes ({@code nodeOutput}).
     */
    public record Unit(
            NodeProto node, Kind kind, String layer, List<String> activations, String output, NodeProto absorbedRelu) {
        /** The float value the node writes, which the output's QuantizeLinear reads. */
        public String nodeOutput() {
            return node.getOutput(0);
        }
    }

    private final ModelProto model;
    private final List<Unit> units;
    private final Set<String> floatLayers;
    private final List<String> layers;
    private final Set<String> quantized;
    private final Map<String, String> inheritedFrom;

    private QdqPlan(
            ModelProto model,
            List<Unit> units,
            Set<String> floatLayers,
            List<String> layers,
            Set<String> quantized,
            Map<String, String> inheritedFrom) {
        this.model = model;
        this.units = units;
        this.floatLayers = floatLayers;
        this.layers = layers;
        this.quantized = quantized;
        this.inheritedFrom = inheritedFrom;
    }

    /**
     * The plan of {@code folded} (a model after {@link BatchNormFolding}) with the layers named in {@code floatLayers}
     * (Conv and Add layer names, {@link #layers}) left float32; a name that is no such layer is refused, listing them.
     */
    public static QdqPlan of(ModelProto folded, Set<String> floatLayers) {
        GraphIndex index = new GraphIndex(folded.getGraph());
        List<String> layers = new ArrayList<>();
        for (NodeProto n : folded.getGraph().getNodeList()) {
            if (isQuantizableConv(index, n) || isActivationAdd(index, n)) layers.add(layerName(n));
        }
        for (String name : floatLayers) {
            if (!layers.contains(name))
                throw new IllegalArgumentException(
                        "'" + name + "' is not a convolution or residual add of the model; its layers are " + layers);
        }
        List<Unit> units = new ArrayList<>();
        Map<String, Unit> unitWriting = new LinkedHashMap<>();
        Map<String, String> inherited = new LinkedHashMap<>();
        for (NodeProto n : folded.getGraph().getNodeList()) {
            Kind kind = null;
            if (isQuantizableConv(index, n)) kind = Kind.CONV;
            else if (isActivationAdd(index, n)) kind = Kind.ADD;
            else if (isMaxPoolOfQuantized(index, n, unitWriting)) kind = Kind.MAX_POOL;
            if (kind == null || floatLayers.contains(layerName(n))) continue;
            List<String> activations =
                    kind == Kind.CONV ? List.of(n.getInput(0)) : List.copyOf(activationInputs(index, n));
            NodeProto relu = kind == Kind.MAX_POOL ? null : soleRelu(index, n.getOutput(0));
            String output = relu != null ? relu.getOutput(0) : n.getOutput(0);
            Unit unit = new Unit(n, kind, layerName(n), activations, output, relu);
            units.add(unit);
            unitWriting.put(output, unit);
            if (kind == Kind.MAX_POOL) inherited.put(output, n.getInput(0));
        }
        Set<String> quantized = new LinkedHashSet<>();
        for (Unit u : units) {
            quantized.addAll(u.activations());
            quantized.add(u.output());
        }
        return new QdqPlan(
                folded, List.copyOf(units), Set.copyOf(floatLayers), List.copyOf(layers), quantized, inherited);
    }

    /**
     * Every tensor whose range some plan of {@code folded} calibrates, whatever layers stay float: the uint8 tensors
     * of the all-int8 plan, MaxPool outputs included (they need their own range once the node before them is float).
     */
    public static List<String> calibrationCandidates(ModelProto folded) {
        return List.copyOf(of(folded, Set.of()).quantized);
    }

    public ModelProto model() {
        return model;
    }

    public List<Unit> units() {
        return units;
    }

    /** The layers that may run in int8, in graph order: convolutions by weight name (e.g. layer1.0.conv1), adds by output. */
    public List<String> layers() {
        return layers;
    }

    /** The layers this plan keeps float32. */
    public Set<String> floatLayers() {
        return floatLayers;
    }

    /** The tensors that carry uint8 values, each quantized once: every int8 node's activation inputs and outputs. */
    public Set<String> quantizedTensors() {
        return quantized;
    }

    /** The quantized tensors whose range calibration gives (the others take their input's: MaxPool outputs). */
    public List<String> calibratedTensors() {
        return quantized.stream().filter(t -> !inheritedFrom.containsKey(t)).toList();
    }

    /** For a MaxPool's output: the tensor whose scale and zero point it shares; otherwise null. */
    public String inheritsFrom(String tensor) {
        return inheritedFrom.get(tensor);
    }

    /** The int8 node whose output quantization stands for {@code tensor}, or null when a float node writes it. */
    public Unit unitWriting(String tensor) {
        for (Unit u : units) if (u.output().equals(tensor)) return u;
        return null;
    }

    /** The number of convolutions that run in int8. */
    public int integerConvolutions() {
        return (int) units.stream().filter(u -> u.kind() == Kind.CONV).count();
    }

    /**
     * The layers with weights that stay float32, in graph order: those of {@link #floatLayers} and every weighted node
     * that is not a convolution (the classifier and the group heads).
     */
    public List<String> floatWeightedLayers() {
        GraphIndex index = new GraphIndex(model.getGraph());
        Set<NodeProto> int8 = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Unit u : units) int8.add(u.node());
        List<String> r = new ArrayList<>();
        for (NodeProto n : model.getGraph().getNodeList()) {
            boolean weighted = n.getInputCount() > 1
                    && index.isInitializer(n.getInput(1))
                    && n.getInput(1).contains(WEIGHT);
            if (weighted && !int8.contains(n)) r.add(layerName(n));
        }
        return r;
    }

    private static final String WEIGHT = ".weight";

    /**
     * The layer name of a node: one whose second input is a weight goes by the weight's name without ".weight"
     * (torchvision's module name, e.g. layer1.0.conv1, fc), anything else by its first output (layer1.0.residual).
     */
    static String layerName(NodeProto n) {
        if (n.getInputCount() > 1) {
            String w = n.getInput(1);
            if (w.endsWith(BatchNormFolding.FOLDED_WEIGHT_SUFFIX))
                w = w.substring(0, w.length() - BatchNormFolding.FOLDED_WEIGHT_SUFFIX.length());
            if (w.endsWith(WEIGHT)) return w.substring(0, w.length() - WEIGHT.length());
        }
        return n.getOutput(0);
    }

    private static boolean isQuantizableConv(GraphIndex index, NodeProto n) {
        if (!n.getOpType().equals("Conv") || !n.getDomain().isEmpty()) return false;
        if (index.isInitializer(n.getInput(0)) || !index.isInitializer(n.getInput(1))) return false;
        return n.getInputCount() < 3 || n.getInput(2).isEmpty() || index.isInitializer(n.getInput(2));
    }

    private static boolean isActivationAdd(GraphIndex index, NodeProto n) {
        return n.getOpType().equals("Add")
                && n.getDomain().isEmpty()
                && n.getInputCount() == 2
                && !index.isInitializer(n.getInput(0))
                && !index.isInitializer(n.getInput(1));
    }

    private static List<String> activationInputs(GraphIndex index, NodeProto n) {
        List<String> r = new ArrayList<>();
        for (String in : n.getInputList()) if (!in.isEmpty() && !index.isInitializer(in)) r.add(in);
        return r;
    }

    /** A MaxPool reading an int8 node's output, its Indices output unused. */
    private static boolean isMaxPoolOfQuantized(GraphIndex index, NodeProto n, Map<String, Unit> unitWriting) {
        if (!n.getOpType().equals("MaxPool") || !n.getDomain().isEmpty()) return false;
        for (int i = 1; i < n.getOutputCount(); i++)
            if (!n.getOutput(i).isEmpty() && index.isUsed(n.getOutput(i))) return false;
        return unitWriting.containsKey(n.getInput(0));
    }

    /** The ReLU that is the only reader of {@code value} (not a graph output), or null. */
    private static NodeProto soleRelu(GraphIndex index, String value) {
        List<NodeProto> readers = index.consumers(value);
        if (readers.size() != 1 || index.isGraphOutput(value)) return null;
        NodeProto r = readers.get(0);
        return r.getOpType().equals("Relu") && r.getDomain().isEmpty() ? r : null;
    }
}
