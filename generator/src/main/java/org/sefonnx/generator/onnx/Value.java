package org.sefonnx.generator.onnx;

/** A named tensor in a graph. {@code shape} is null when the rank is unknown. */
public record Value(String name, DType dtype, Shape shape) {
    public Shape requireShape() {
        if (shape == null) throw new IllegalStateException("value '" + name + "' has no inferred shape");
        return shape;
    }

    @Override
    public String toString() {
        return name + ":" + dtype + (shape == null ? "[?]" : shape.toString());
    }
}
