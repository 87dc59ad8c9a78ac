package org.sefonnx.train.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** One array of a MAT-file: numeric, char, cell or struct; elements are in MATLAB's column-major order. */
public sealed interface MatArray permits MatArray.Numeric, MatArray.Chars, MatArray.Cell, MatArray.Struct {

    /** Variable name, or for nested arrays a MATLAB-style path such as {@code annotations(3).class}. */
    String name();

    /** MATLAB dimensions, at least two. */
    int[] dims();

    /** Number of elements, the product of {@link #dims()}. */
    default int numel() {
        long n = 1;
        for (int d : dims()) {
            n *= d;
        }
        return (int) n;
    }

    /** The MATLAB class a numeric array was saved as; values are widened to double either way. */
    enum NumericClass {
        DOUBLE,
        SINGLE,
        INT8,
        UINT8,
        INT16,
        UINT16,
        INT32,
        UINT32,
        INT64,
        UINT64;

        static NumericClass ofMatClass(int mxClass) {
            // mxDOUBLE_CLASS = 6 ... mxUINT64_CLASS = 15, in this enum's order.
            return values()[mxClass - 6];
        }
    }

    /** Real numeric array (double, single or integer), values widened to double. */
    record Numeric(String name, int[] dims, NumericClass numericClass, double[] values) implements MatArray {
        /** Value {@code i} as an exact int; fails naming the array if it is not integral. */
        public int intAt(int i) {
            double v = values[i];
            if (v != Math.rint(v) || v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(
                        "MAT array '" + name + "' element " + (i + 1) + " is " + v + ", expected an integer");
            }
            return (int) v;
        }

        /** The single value of a 1x1 array. */
        public int scalarInt() {
            if (values.length != 1) {
                throw new IllegalArgumentException(
                        "MAT array '" + name + "' has " + values.length + " elements, expected a scalar");
            }
            return intAt(0);
        }
    }

    /** Char array of UTF-16 code units. */
    record Chars(String name, int[] dims, char[] data) implements MatArray {
        /** The text of a row vector (1xN or empty); fails for a multi-row char matrix. */
        public String string() {
            if (dims.length == 2 && dims[0] > 1) {
                throw new IllegalArgumentException(
                        "MAT char array '" + name + "' has " + dims[0] + " rows, expected one string");
            }
            return new String(data);
        }

        /** Each row of a char matrix, trailing blanks kept (MATLAB pads rows with spaces). */
        public List<String> rows() {
            int rows = dims[0];
            int cols = rows == 0 ? 0 : data.length / rows;
            List<String> out = new ArrayList<>(rows);
            for (int r = 0; r < rows; r++) {
                char[] row = new char[cols];
                for (int c = 0; c < cols; c++) {
                    row[c] = data[c * rows + r];
                }
                out.add(new String(row));
            }
            return out;
        }
    }

    /** Cell array. */
    record Cell(String name, int[] dims, List<MatArray> cells) implements MatArray {}

    /** Struct array: one field map per element. */
    record Struct(String name, int[] dims, List<String> fieldNames, List<Map<String, MatArray>> elements)
            implements MatArray {
        /** Field {@code field} of element {@code index} (0-based); fails naming the struct and its fields. */
        public MatArray field(int index, String field) {
            MatArray value = elements.get(index).get(field);
            if (value == null) {
                throw new IllegalArgumentException(
                        "MAT struct '" + name + "' has no field '" + field + "'; fields are " + fieldNames);
            }
            return value;
        }
    }
}
