package org.sefonnx.generator.model;

import java.util.List;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.generator.onnx.DType;
import org.sefonnx.generator.onnx.Graph;
import org.sefonnx.generator.onnx.Ops;
import org.sefonnx.generator.onnx.Shape;
import org.sefonnx.generator.onnx.Value;

/** Builds the SEF forward graph (ResNet backbone + heads + losses) for one spec. */
public final class SefModel {
    /** Symbolic batch dimension (input and output names are the contract's TensorNames). */
    public static final String BATCH = "batch";

    /** A built forward graph and the handles later stages need. */
    public record Built(
            Graph graph,
            Forward forward,
            Value images,
            Value labels,
            Value featureMap,
            SefHeads.Logits logits,
            SefLoss.Terms terms,
            List<CheckpointTensor> tensors) {}

    private SefModel() {}

    /** The checkpoint tensors of a spec, in graph order: trainable parameters first, then BN running statistics. */
    public static List<CheckpointTensor> modelTensors(ModelSpec spec) {
        Graph scratch = new Graph("scratch");
        Parameters p = Parameters.recording(scratch, DType.FLOAT);
        build(scratch, spec, p, false, DType.FLOAT);
        List<CheckpointTensor> all = p.tensors();
        return java.util.stream.Stream.concat(
                        all.stream().filter(CheckpointTensor::trainable),
                        all.stream().filter(t -> !t.trainable()))
                .toList();
    }

    /**
     * Builds the forward graph with the given checkpoint tensors declared first, in order ({@code extra} tensors,
     * e.g. momentum buffers, are declared as inputs too although the forward does not read them).
     */
    public static Built forward(
            ModelSpec spec, String graphName, boolean training, DType dtype, List<CheckpointTensor> declared) {
        return forward(spec, graphName, training, dtype, dtype, declared);
    }

    /** The same with the backbone and heads computed in {@code computeDtype} (mixed precision when it differs). */
    public static Built forward(
            ModelSpec spec,
            String graphName,
            boolean training,
            DType dtype,
            DType computeDtype,
            List<CheckpointTensor> declared) {
        Graph g = new Graph(graphName);
        Value images = g.input(
                TensorNames.IMAGES, dtype, Shape.of(BATCH, 3L, (long) spec.imageSize(), (long) spec.imageSize()));
        Value labels = g.input(TensorNames.LABELS, DType.INT64, Shape.of(BATCH));
        Parameters p = Parameters.declareAll(g, dtype, declared);
        return build(g, spec, p, training, dtype, computeDtype, images, labels, declared);
    }

    private static void build(Graph g, ModelSpec spec, Parameters p, boolean training, DType dtype) {
        Value images = g.input(
                TensorNames.IMAGES, dtype, Shape.of(BATCH, 3L, (long) spec.imageSize(), (long) spec.imageSize()));
        Value labels = g.input(TensorNames.LABELS, DType.INT64, Shape.of(BATCH));
        build(g, spec, p, training, dtype, dtype, images, labels, List.of());
    }

    private static Built build(
            Graph g,
            ModelSpec spec,
            Parameters p,
            boolean training,
            DType dtype,
            DType computeDtype,
            Value images,
            Value labels,
            List<CheckpointTensor> declared) {
        Forward f = new Forward(new Ops(g), p, training, dtype, computeDtype);
        Value featureMap = ResNet.backbone(f, spec.depth(), images);
        SefHeads.Logits logits = SefHeads.apply(f, spec, featureMap);
        SefLoss.Terms terms = SefLoss.apply(f, spec, logits, labels, featureMap);
        return new Built(g, f, images, labels, featureMap, logits, terms, declared);
    }
}
