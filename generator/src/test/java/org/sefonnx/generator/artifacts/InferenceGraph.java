package org.sefonnx.generator.artifacts;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.sefonnx.contract.AtomicFiles;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.generator.model.CheckpointTensor;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.generator.model.SefModel;
import org.sefonnx.generator.onnx.DType;
import org.sefonnx.generator.onnx.Graph;

/**
 * The inference model of a trained checkpoint, built without ONNX Runtime: what ORT's ExportModelForInferencing
 * makes of our eval graph. The eval forward (BatchNorm on running statistics) is pruned by walking back from
 * {@link ExportLayout#PREDICTION_OUTPUTS}, which leaves the backbone and the global head only (no group heads, no
 * loss, no {@code labels} input); every checkpoint tensor that survives becomes an initializer holding its value.
 * Input {@code images} [batch, 3, S, S]; outputs {@code logits} and {@code probabilities} [batch, K]. Test support,
 * through the generator's test-jar, for the modules that need an export without a training run (runtime-infer,
 * runtime-spark, validation, bench/infer, bench/spark); it sits in this package to share the eval graph's helpers.
 */
public final class InferenceGraph {
    private InferenceGraph() {}

    /** The inference model of {@code spec} with the values of {@code checkpoint} (momentum buffers are ignored). */
    public static ModelProto build(ModelSpec spec, Checkpoint checkpoint) {
        return build(spec, tensors(checkpoint));
    }

    /**
     * The inference model of {@code spec} with checkpoint tensor values by name; every parameter and running
     * statistic the pruned graph reads must be present with its shape's element count.
     */
    public static ModelProto build(ModelSpec spec, Map<String, float[]> values) {
        return build(spec, values, false);
    }

    /**
     * The model the trainer exports as model.onnx (less the metadata recording its group split): the same with {@link ExportLayout#MODEL_OUTPUTS},
     * i.e. also the last feature map [batch, C, h, w] and the group heads' logits [batch, G, K].
     */
    public static ModelProto buildExplain(ModelSpec spec, Map<String, float[]> values) {
        return build(spec, values, true);
    }

    private static ModelProto build(ModelSpec spec, Map<String, float[]> values, boolean explain) {
        List<CheckpointTensor> modelTensors = SefModel.modelTensors(spec);
        SefModel.Built eval = SefModel.forward(spec, "sef_inference_" + spec.id(), false, DType.FLOAT, modelTensors);
        Graph g = eval.graph();
        g.output(eval.logits().global(), TensorNames.LOGITS);
        g.output(eval.terms().probabilities(), TensorNames.PROBABILITIES);
        if (explain) {
            g.output(eval.featureMap(), TensorNames.FEATURE_MAP);
            g.output(
                    TrainingArtifacts.stackedGroupLogits(
                            new org.sefonnx.generator.onnx.Ops(g), eval.logits().groups()),
                    TensorNames.GROUP_LOGITS);
        }
        GraphProto full = g.toGraphProto();

        Map<String, Integer> producer = new HashMap<>();
        for (int i = 0; i < full.getNodeCount(); i++) {
            for (String out : full.getNode(i).getOutputList()) if (!out.isEmpty()) producer.put(out, i);
        }
        boolean[] keep = new boolean[full.getNodeCount()];
        Set<String> used = new HashSet<>();
        Deque<String> pending = new ArrayDeque<>();
        for (ValueInfoProto out : full.getOutputList()) pending.add(out.getName());
        while (!pending.isEmpty()) {
            String name = pending.pop();
            if (!used.add(name)) continue;
            Integer node = producer.get(name);
            if (node == null || keep[node]) continue;
            keep[node] = true;
            for (String in : full.getNode(node).getInputList()) if (!in.isEmpty()) pending.add(in);
        }

        Map<String, CheckpointTensor> byName = new LinkedHashMap<>();
        for (CheckpointTensor t : modelTensors) byName.put(t.name(), t);
        GraphProto.Builder pruned = GraphProto.newBuilder().setName(full.getName());
        for (ValueInfoProto in : full.getInputList()) {
            if (!used.contains(in.getName())) continue;
            CheckpointTensor t = byName.get(in.getName());
            if (t == null) pruned.addInput(in);
            else pruned.addInitializer(initializer(t, values.get(t.name())));
        }
        for (TensorProto constant : full.getInitializerList())
            if (used.contains(constant.getName())) pruned.addInitializer(constant);
        boolean usesMs = false;
        for (int i = 0; i < keep.length; i++) {
            if (!keep[i]) continue;
            NodeProto n = full.getNode(i);
            pruned.addNode(n);
            usesMs |= n.getDomain().equals(Graph.MS_DOMAIN);
        }
        pruned.addAllOutput(full.getOutputList());

        ModelProto.Builder m = ModelProto.newBuilder()
                .setIrVersion(Graph.IR_VERSION)
                .setProducerName("sef-onnx")
                .setProducerVersion(TrainingArtifacts.version())
                .setDocString("sef-onnx inference model " + spec.id() + "\n" + spec.toProperties())
                .setGraph(pruned)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(Graph.ONNX_OPSET));
        if (usesMs)
            m.addOpsetImport(
                    OperatorSetIdProto.newBuilder().setDomain(Graph.MS_DOMAIN).setVersion(1));
        return m.build();
    }

    /** Builds and writes the model (temp file and atomic rename). */
    public static void write(ModelSpec spec, Map<String, float[]> values, Path file) throws IOException {
        AtomicFiles.write(file, build(spec, values).toByteArray());
    }

    /** The checkpoint's tensors (trainable and frozen) by name. */
    public static Map<String, float[]> tensors(Checkpoint checkpoint) {
        Map<String, float[]> r = new LinkedHashMap<>();
        for (Checkpoint.Tensor t : checkpoint.trainable()) r.put(t.name(), t.data());
        for (Checkpoint.Tensor t : checkpoint.frozen()) r.put(t.name(), t.data());
        return r;
    }

    private static TensorProto initializer(CheckpointTensor t, float[] data) {
        if (data == null) throw new IllegalArgumentException("no value for checkpoint tensor " + t);
        if (data.length != t.numel()) {
            throw new IllegalArgumentException("checkpoint tensor " + t.name() + " has " + data.length
                    + " values, shape " + Arrays.toString(t.shape()) + " needs " + t.numel());
        }
        ByteBuffer raw = ByteBuffer.allocate(data.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        raw.asFloatBuffer().put(data);
        TensorProto.Builder b = TensorProto.newBuilder()
                .setName(t.name())
                .setDataType(DType.FLOAT.onnxCode)
                .setRawData(ByteString.copyFrom(raw.array()));
        for (long d : t.shape()) b.addDims(d);
        return b.build();
    }
}
