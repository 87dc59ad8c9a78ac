package org.sefonnx.generator.model;

/**
 * How a checkpoint tensor starts, as PyTorch's defaults for torchvision's ResNet: convs kaiming-normal
 * (mode=fan_out, nonlinearity=relu: std = sqrt(2 / fan_out)), BatchNorm weight 1 and bias 0, running mean 0 and
 * variance 1, Linear weight and bias uniform in ±1/sqrt(fan_in), momentum buffers 0.
 */
public record TensorInit(Kind kind, double scale) {
    public enum Kind {
        NORMAL,
        UNIFORM,
        CONSTANT
    }

    public static TensorInit kaimingNormalFanOut(long fanOut) {
        return new TensorInit(Kind.NORMAL, Math.sqrt(2.0 / fanOut));
    }

    public static TensorInit linearUniform(long fanIn) {
        return new TensorInit(Kind.UNIFORM, 1.0 / Math.sqrt(fanIn));
    }

    public static TensorInit constant(double v) {
        return new TensorInit(Kind.CONSTANT, v);
    }
}
