package org.sefonnx.generator.onnx;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** A tensor shape: a list of fixed or symbolic dimensions. */
public final class Shape {
    private final List<Dim> dims;

    private Shape(List<Dim> dims) {
        this.dims = List.copyOf(dims);
    }

    public static Shape of(List<Dim> dims) {
        return new Shape(dims);
    }

    /** Builds a shape from {@code Long}/{@code Integer} sizes and {@code String} symbols. */
    public static Shape of(Object... dims) {
        List<Dim> l = new ArrayList<>();
        for (Object d : dims) {
            if (d instanceof Dim dim) l.add(dim);
            else if (d instanceof String s) l.add(Dim.sym(s));
            else l.add(Dim.of(((Number) d).longValue()));
        }
        return new Shape(l);
    }

    public static Shape fixed(long... sizes) {
        List<Dim> l = new ArrayList<>();
        for (long s : sizes) l.add(Dim.of(s));
        return new Shape(l);
    }

    public static final Shape SCALAR = new Shape(List.of());

    public int rank() {
        return dims.size();
    }

    public Dim dim(int i) {
        return dims.get(i < 0 ? i + dims.size() : i);
    }

    public long size(int i) {
        Dim d = dim(i);
        if (!d.isFixed()) throw new IllegalStateException("dimension " + i + " of " + this + " is symbolic");
        return d.size();
    }

    public List<Dim> dims() {
        return dims;
    }

    public boolean isFixed() {
        return dims.stream().allMatch(Dim::isFixed);
    }

    /** Element count; only for fully fixed shapes. */
    public long numel() {
        long n = 1;
        for (int i = 0; i < rank(); i++) n *= size(i);
        return n;
    }

    /** Sizes with -1 standing for symbolic dimensions. */
    public long[] sizes() {
        long[] s = new long[rank()];
        for (int i = 0; i < s.length; i++)
            s[i] = dims.get(i).isFixed() ? dims.get(i).size() : -1;
        return s;
    }

    public Shape with(int axis, Dim d) {
        List<Dim> l = new ArrayList<>(dims);
        l.set(axis, d);
        return new Shape(l);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && s.dims.equals(dims);
    }

    @Override
    public int hashCode() {
        return dims.hashCode();
    }

    @Override
    public String toString() {
        return Arrays.toString(dims.toArray());
    }
}
