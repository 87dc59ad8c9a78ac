package org.sefonnx.bench.common;

import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;

/**
 * torchvision's resnet50 built with DJL's block API, for bench/infer's DJL + PyTorch side at ResNet-50: the stem of
 * {@link DjlResNet18}, Bottleneck blocks [3, 4, 6, 3] (1x1 → 3x3 with the stride, "v1.5" → 1x1 expanding 4x, each
 * conv without bias and followed by BN, ReLU after the first two and after the sum), a 1x1/stride conv + BN projection
 * where the shape changes, global average pooling, Linear 2048 -> classes. Weights: DJL's default initialisers.
 */
public final class DjlResNet50 {
    private static final int[] BLOCKS = {3, 4, 6, 3};
    private static final int EXPANSION = 4;

    private DjlResNet50() {}

    public static Block torchvisionResNet50(int classes) {
        SequentialBlock net = DjlResNet18.stem();
        int in = 64;
        for (int stage = 0; stage < 4; stage++) {
            int planes = 64 << stage;
            for (int b = 0; b < BLOCKS[stage]; b++) {
                int stride = stage > 0 && b == 0 ? 2 : 1;
                net.add(bottleneck(in, planes, stride));
                in = planes * EXPANSION;
            }
        }
        return net.add(Pool.globalAvgPool2dBlock())
                .add(Blocks.batchFlattenBlock())
                .add(Linear.builder().setUnits(classes).build());
    }

    private static Block bottleneck(int in, int planes, int stride) {
        int out = planes * EXPANSION;
        SequentialBlock main = new SequentialBlock()
                .add(DjlResNet18.conv(planes, 1, 1, 0))
                .add(DjlResNet18.bn())
                .add(Activation.reluBlock())
                .add(DjlResNet18.conv(planes, 3, stride, 1))
                .add(DjlResNet18.bn())
                .add(Activation.reluBlock())
                .add(DjlResNet18.conv(out, 1, 1, 0))
                .add(DjlResNet18.bn());
        SequentialBlock shortcut = new SequentialBlock();
        if (stride != 1 || in != out)
            shortcut.add(DjlResNet18.conv(out, 1, stride, 0)).add(DjlResNet18.bn());
        else shortcut.add(Blocks.identityBlock());
        return DjlResNet18.residual(main, shortcut);
    }
}
