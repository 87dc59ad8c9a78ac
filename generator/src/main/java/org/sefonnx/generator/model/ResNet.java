package org.sefonnx.generator.model;

import org.sefonnx.generator.onnx.Value;

/**
 * torchvision's ResNet-18/34/50 backbone (models/resnet.py): conv1 7x7/2, BN, ReLU, max-pool 3x3/2, four stages
 * of BasicBlock or Bottleneck (stride on the 3x3 conv, "v1.5"), tensor names as torchvision's state_dict.
 */
public final class ResNet {
    private ResNet() {}

    /** Blocks per stage. */
    static int[] layers(int depth) {
        return switch (depth) {
            case 18 -> new int[] {2, 2, 2, 2};
            case 34, 50 -> new int[] {3, 4, 6, 3};
            default -> throw new IllegalArgumentException("unsupported ResNet depth " + depth);
        };
    }

    /** Returns the last feature map (post-ReLU), [N, C, h, w]. */
    public static Value backbone(Forward f, int depth, Value images) {
        boolean bottleneck = depth == 50;
        int expansion = bottleneck ? 4 : 1;
        Value x = conv(f, "conv1", f.toCompute(images), 64, 7, 2, 3);
        x = f.ops.relu("relu", BatchNorm.apply(f, "bn1", x));
        x = f.ops.maxPoolWithIndices("maxpool", x, 3, 2, 1).get(0);
        int inplanes = 64;
        int[] blocks = layers(depth);
        for (int stage = 0; stage < 4; stage++) {
            int planes = 64 << stage;
            for (int b = 0; b < blocks[stage]; b++) {
                int stride = (b == 0 && stage > 0) ? 2 : 1;
                String prefix = "layer" + (stage + 1) + "." + b;
                x = bottleneck
                        ? bottleneck(f, prefix, x, inplanes, planes, stride)
                        : basicBlock(f, prefix, x, inplanes, planes, stride);
                inplanes = planes * expansion;
            }
        }
        return x;
    }

    static Value basicBlock(Forward f, String p, Value x, int inplanes, int planes, int stride) {
        Value out = f.ops.relu(
                p + ".relu1", BatchNorm.apply(f, p + ".bn1", conv(f, p + ".conv1", x, planes, 3, stride, 1)));
        out = BatchNorm.apply(f, p + ".bn2", conv(f, p + ".conv2", out, planes, 3, 1, 1));
        Value identity = downsample(f, p, x, inplanes, planes, stride);
        return f.ops.relu(p + ".relu2", f.ops.add(p + ".residual", out, identity));
    }

    static Value bottleneck(Forward f, String p, Value x, int inplanes, int planes, int stride) {
        Value out = f.ops.relu(p + ".relu1", BatchNorm.apply(f, p + ".bn1", conv(f, p + ".conv1", x, planes, 1, 1, 0)));
        out = f.ops.relu(
                p + ".relu2", BatchNorm.apply(f, p + ".bn2", conv(f, p + ".conv2", out, planes, 3, stride, 1)));
        out = BatchNorm.apply(f, p + ".bn3", conv(f, p + ".conv3", out, planes * 4, 1, 1, 0));
        Value identity = downsample(f, p, x, inplanes, planes * 4, stride);
        return f.ops.relu(p + ".relu3", f.ops.add(p + ".residual", out, identity));
    }

    static Value downsample(Forward f, String p, Value x, int inplanes, int outChannels, int stride) {
        if (stride == 1 && inplanes == outChannels) return x;
        return BatchNorm.apply(f, p + ".downsample.1", conv(f, p + ".downsample.0", x, outChannels, 1, stride, 0));
    }

    /** Bias-free conv (every ResNet conv is followed by BN); kaiming-normal fan_out init. */
    static Value conv(Forward f, String name, Value x, int outChannels, int kernel, int stride, int pad) {
        long inChannels = x.requireShape().size(1);
        Value w = f.toCompute(f.params.parameter(
                name + ".weight",
                TensorInit.kaimingNormalFanOut((long) outChannels * kernel * kernel),
                outChannels,
                inChannels,
                kernel,
                kernel));
        return f.ops.conv(name + ".out", x, w, null, stride, pad);
    }
}
