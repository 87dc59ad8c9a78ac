package org.sefonnx.generator.onnx;

/** One tensor dimension: a fixed size, or a symbolic name such as {@code batch}. */
public record Dim(long size, String symbol) {
    public static Dim of(long size) {
        if (size < 0) throw new IllegalArgumentException("dimension must be >= 0, got " + size);
        return new Dim(size, null);
    }

    public static Dim sym(String symbol) {
        return new Dim(-1, symbol);
    }

    public boolean isFixed() {
        return symbol == null;
    }

    @Override
    public String toString() {
        return isFixed() ? Long.toString(size) : symbol;
    }
}
