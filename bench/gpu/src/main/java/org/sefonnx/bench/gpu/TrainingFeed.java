package org.sefonnx.bench.gpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.generator.artifacts.Checkpoint;
import org.sefonnx.generator.artifacts.TrainingArtifacts;
import org.sefonnx.generator.onnx.DType;
import org.sefonnx.generator.onnx.Value;
import org.sefonnx.train.ort.HostTensor;

/**
 * What a training session feeds its training graph at the first step, for running that graph as a plain session
 * (ORT's training API neither exposes intermediate values nor lets one profile its train session alone): the batch,
 * every checkpoint tensor, zero gradient buffers, {@code lazy_reset_grad} = true, and for fp16 graphs the initial loss
 * scale. Parameters then travel from the host at every run, which a training session does not do; node timings and
 * values are the same.
 */
record TrainingFeed(List<String> names, List<HostTensor> values) {
    static TrainingFeed of(List<Value> graphInputs, HostTensor[] batch, Checkpoint ckpt, float lossScale) {
        List<String> names = new ArrayList<>();
        List<HostTensor> values = new ArrayList<>();
        for (Value in : graphInputs) {
            names.add(in.name());
            values.add(value(in.name(), batch, ckpt, lossScale));
        }
        return new TrainingFeed(names, values);
    }

    private static HostTensor value(String name, HostTensor[] batch, Checkpoint ckpt, float lossScale) {
        if (name.equals(TensorNames.IMAGES)) return batch[0];
        if (name.equals(TensorNames.LABELS)) return batch[1];
        if (name.equals(TensorNames.LOSS_SCALE)) return HostTensor.floats(new float[] {lossScale});
        if (name.equals(TrainingArtifacts.LAZY_RESET_GRAD)) {
            ByteBuffer t = ByteBuffer.allocateDirect(1).order(ByteOrder.nativeOrder());
            t.put(0, (byte) 1);
            return HostTensor.of(DType.BOOL, new long[] {1}, t);
        }
        if (name.endsWith(TrainingArtifacts.GRAD_BUFFER_SUFFIX)) {
            Checkpoint.Tensor p =
                    tensor(ckpt, name.substring(0, name.length() - TrainingArtifacts.GRAD_BUFFER_SUFFIX.length()));
            return HostTensor.floats(new float[p.data().length], p.dims());
        }
        Checkpoint.Tensor t = tensor(ckpt, name);
        return HostTensor.floats(t.data(), t.dims());
    }

    private static Checkpoint.Tensor tensor(Checkpoint ckpt, String name) {
        Checkpoint.Tensor t = ckpt.tensor(name);
        if (t == null)
            throw new IllegalStateException(
                    "training graph input " + name + " is neither data nor a checkpoint tensor");
        return t;
    }
}
