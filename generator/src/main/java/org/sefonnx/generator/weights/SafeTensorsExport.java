package org.sefonnx.generator.weights;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.Checkpoint;
import org.sefonnx.generator.model.CheckpointTensor;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.generator.model.SefModel;

/**
 * A checkpoint (ours, or one ORT's SaveCheckpoint wrote: {@link org.sefonnx.generator.artifacts.CheckpointReader}
 * reads both) as a safetensors file for PyTorch users, under torchvision's state_dict names: backbone, global head
 * {@code fc.*}, BatchNorm running statistics and {@code num_batches_tracked}, so that
 * {@code resnet50(num_classes=K).load_state_dict(safetensors.torch.load_file(f))} works with strict=True. Momentum
 * buffers are never written; the group heads only on request, as {@code group_fc.<g>.*}.
 *
 * <p>{@code num_batches_tracked} is written as an int64 scalar 0: we do not count BatchNorm steps, and PyTorch reads
 * the counter only for BatchNorm2d(momentum=None), which torchvision's ResNets do not use.
 */
public final class SafeTensorsExport {
    /** Metadata key of the tensor format (the checkpoint's own property bag is copied besides, as text). */
    public static final String META_FORMAT = "format";
    /** Metadata key of the spec's id. */
    public static final String META_MODEL_ID = ArtifactWriter.PROP_MODEL_ID;
    /** Metadata key of the spec as {@code key=value} lines. */
    public static final String META_SPEC = ArtifactWriter.PROP_SPEC;
    /** Metadata key saying whether the group heads were written. */
    public static final String META_GROUP_HEADS = "group_heads";
    /** safetensors.torch writes "pt"; Hugging Face loaders check for it. */
    static final String FORMAT_PT = "pt";
    /** The suffix of PyTorch's BatchNorm step counter, written next to each BatchNorm's running mean. */
    static final String NUM_BATCHES_TRACKED = ".num_batches_tracked";
    /** The suffix that marks a BatchNorm's tensors (one per BatchNorm). */
    private static final String RUNNING_MEAN = ".running_mean";

    private SafeTensorsExport() {}

    /** Writes the backbone, the global head and the BatchNorm statistics (no group heads). */
    public static void write(Checkpoint ck, ModelSpec spec, Path file) throws IOException {
        write(ck, spec, file, false);
    }

    public static void write(Checkpoint ck, ModelSpec spec, Path file, boolean withGroupHeads) throws IOException {
        SafeTensors.write(file, tensors(ck, spec, withGroupHeads), metadata(ck, spec, withGroupHeads));
    }

    /** The exported tensors, float32 under torchvision's names; fails naming every tensor the checkpoint lacks. */
    public static List<SafeTensors.Tensor> tensors(Checkpoint ck, ModelSpec spec, boolean withGroupHeads) {
        List<SafeTensors.Tensor> r = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (CheckpointTensor t : SefModel.modelTensors(spec)) {
            if (!withGroupHeads && t.name().startsWith("group_fc.")) continue;
            Checkpoint.Tensor c = ck.tensor(t.name());
            if (c == null) {
                problems.add(t.name() + " missing");
                continue;
            }
            if (!Arrays.equals(c.dims(), t.shape())) {
                problems.add(t.name() + " has shape " + Arrays.toString(c.dims()) + ", spec " + spec.id() + " expects "
                        + Arrays.toString(t.shape()));
                continue;
            }
            r.add(SafeTensors.Tensor.f32(t.name(), c.data(), t.shape()));
            if (t.name().endsWith(RUNNING_MEAN)) {
                String bn = t.name().substring(0, t.name().length() - RUNNING_MEAN.length());
                r.add(SafeTensors.Tensor.i64(bn + NUM_BATCHES_TRACKED, new long[] {0}));
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("checkpoint does not hold the tensors of spec " + spec.id() + " (ResNet-"
                    + spec.depth() + ", K="
                    + spec.numClasses() + ", G=" + spec.groups() + "): "
                    + String.join("; ", problems.subList(0, Math.min(problems.size(), 12)))
                    + (problems.size() > 12 ? "; ... and " + (problems.size() - 12) + " more" : ""));
        }
        return r;
    }

    /** The checkpoint's property bag as text, then format, model id, spec and whether group heads are included. */
    public static Map<String, String> metadata(Checkpoint ck, ModelSpec spec, boolean withGroupHeads) {
        Map<String, String> m = new LinkedHashMap<>();
        ck.intProperties().forEach((k, v) -> m.put(k, Long.toString(v)));
        ck.floatProperties().forEach((k, v) -> m.put(k, Float.toString(v)));
        m.putAll(ck.stringProperties());
        m.put(META_FORMAT, FORMAT_PT);
        m.put(META_MODEL_ID, spec.id());
        m.put(META_SPEC, spec.toProperties());
        m.put(META_GROUP_HEADS, Boolean.toString(withGroupHeads));
        return m;
    }
}
