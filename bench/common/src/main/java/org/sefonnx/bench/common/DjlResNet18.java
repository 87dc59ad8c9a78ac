package org.sefonnx.bench.common;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.pooling.Pool;
import java.util.List;

/**
 * torchvision's resnet18 built with DJL's block API, the model the benchmarks run on DJL + PyTorch next to sef-onnx
 * (bench/train-throughput trains it, bench/infer runs it). Its users declare DJL themselves (optional here).
 *
 * <p>conv1 7x7/2 (no bias) + BN + ReLU + maxpool 3x3/2 pad 1, BasicBlocks [2,2,2,2] with 64/128/256/512 channels
 * (3x3 convs without bias, 1x1/2 conv + BN projection where the shape changes, ReLU after the sum), global average
 * pooling, Linear 512 -> classes. BatchNorm ε 1e-5, momentum 0.9 (= torch's 0.1). Weights: DJL's default initialisers
 * (random).
 */
public final class DjlResNet18 {
    private DjlResNet18() {}

    public static Block torchvisionResNet18(int classes) {
        SequentialBlock net = stem();
        int in = 64;
        int[] widths = {64, 128, 256, 512};
        for (int stage = 0; stage < 4; stage++) {
            for (int b = 0; b < 2; b++) {
                int stride = stage > 0 && b == 0 ? 2 : 1;
                net.add(basicBlock(in, widths[stage], stride));
                in = widths[stage];
            }
        }
        return net.add(Pool.globalAvgPool2dBlock())
                .add(Blocks.batchFlattenBlock())
                .add(Linear.builder().setUnits(classes).build());
    }

    /** conv1 7x7/2 (no bias) + BN + ReLU + maxpool 3x3/2 pad 1, shared by every torchvision ResNet. */
    static SequentialBlock stem() {
        return new SequentialBlock()
                .add(conv(64, 7, 2, 3))
                .add(bn())
                .add(Activation.reluBlock())
                .add(Pool.maxPool2dBlock(new Shape(3, 3), new Shape(2, 2), new Shape(1, 1)));
    }

    /** A block whose output is ReLU(main(x) + shortcut(x)). */
    static Block residual(SequentialBlock main, SequentialBlock shortcut) {
        return new ParallelBlock(
                list -> new NDList(Activation.relu(
                        list.get(0).singletonOrThrow().add(list.get(1).singletonOrThrow()))),
                List.of(main, shortcut));
    }

    private static Block basicBlock(int in, int out, int stride) {
        SequentialBlock main = new SequentialBlock()
                .add(conv(out, 3, stride, 1))
                .add(bn())
                .add(Activation.reluBlock())
                .add(conv(out, 3, 1, 1))
                .add(bn());
        SequentialBlock shortcut = new SequentialBlock();
        if (stride != 1 || in != out) shortcut.add(conv(out, 1, stride, 0)).add(bn());
        else shortcut.add(Blocks.identityBlock());
        return residual(main, shortcut);
    }

    static Block conv(int filters, int k, int stride, int pad) {
        return Conv2d.builder()
                .setFilters(filters)
                .setKernelShape(new Shape(k, k))
                .optStride(new Shape(stride, stride))
                .optPadding(new Shape(pad, pad))
                .optBias(false)
                .build();
    }

    static Block bn() {
        return BatchNorm.builder().optEpsilon(1e-5f).optMomentum(0.9f).build();
    }
}
