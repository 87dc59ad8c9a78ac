package org.sefonnx.train.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Reader for MATLAB level-5 MAT-files (the format of Stanford Cars' and Stanford Dogs' annotation files).
 *
 * <p>Supports what those files and Octave's {@code -v6}/{@code -v7} writers produce: zlib-compressed
 * elements, struct, cell, char and real numeric arrays, and the small-data-element packing. Sparse,
 * object and function-handle arrays are rejected with the variable name and byte offset.
 */
public final class MatFile {

    /** Level-5 header: 116 bytes of text, 8 bytes subsystem offset, 2 bytes version, 2 bytes endian mark. */
    private static final int HEADER_BYTES = 128;

    // Data types, MATLAB "MAT-File Format" (R2019b) table 1-1.
    private static final int MI_INT8 = 1,
            MI_UINT8 = 2,
            MI_INT16 = 3,
            MI_UINT16 = 4,
            MI_INT32 = 5,
            MI_UINT32 = 6,
            MI_SINGLE = 7,
            MI_DOUBLE = 9,
            MI_INT64 = 12,
            MI_UINT64 = 13,
            MI_MATRIX = 14,
            MI_COMPRESSED = 15,
            MI_UTF8 = 16,
            MI_UTF16 = 17,
            MI_UTF32 = 18;

    // Array classes, same document table 1-3.
    private static final int MX_CELL = 1, MX_STRUCT = 2, MX_OBJECT = 3, MX_CHAR = 4, MX_SPARSE = 5;
    private static final int MX_FIRST_NUMERIC = 6, MX_LAST_NUMERIC = 15;

    private static final int FLAG_COMPLEX = 0x0800;

    /** Refuses absurd sizes from corrupt files before allocating. */
    private static final long MAX_ELEMENTS = 1L << 28;

    private final Path file;
    private final Map<String, MatArray> variables;

    private MatFile(Path file, Map<String, MatArray> variables) {
        this.file = file;
        this.variables = variables;
    }

    /** Parses every variable of {@code file}. */
    public static MatFile read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        return parse(file, bytes);
    }

    static MatFile parse(Path file, byte[] bytes) {
        if (bytes.length < HEADER_BYTES) {
            throw new MatFormatException(
                    file, null, 0, "file has " + bytes.length + " bytes, a level-5 MAT-file needs a 128-byte header");
        }
        ByteOrder order;
        if (bytes[126] == 'I' && bytes[127] == 'M') {
            order = ByteOrder.LITTLE_ENDIAN;
        } else if (bytes[126] == 'M' && bytes[127] == 'I') {
            order = ByteOrder.BIG_ENDIAN;
        } else {
            throw new MatFormatException(
                    file,
                    null,
                    126,
                    "endian indicator is not 'IM' or 'MI' (MATLAB v4 or v7.3/HDF5 files are not supported; re-save with -v7)");
        }
        Map<String, MatArray> variables = new LinkedHashMap<>();
        int offset = HEADER_BYTES;
        while (offset + 8 <= bytes.length) {
            Element element = Element.at(file, null, bytes, order, offset, offset);
            byte[] body = bytes;
            int bodyStart = element.dataStart;
            int bodyLength = element.length;
            long reportBase = 0;
            if (element.type == MI_COMPRESSED) {
                body = inflate(file, bytes, element.dataStart, element.length, offset);
                Element inner = Element.at(file, null, body, order, 0, offset);
                if (inner.type != MI_MATRIX) {
                    throw new MatFormatException(
                            file,
                            null,
                            offset,
                            "compressed element holds data type " + inner.type + ", expected miMATRIX (14)");
                }
                bodyStart = inner.dataStart;
                bodyLength = inner.length;
                reportBase = offset;
            } else if (element.type != MI_MATRIX) {
                throw new MatFormatException(
                        file,
                        null,
                        offset,
                        "top-level element has data type " + element.type
                                + ", expected miMATRIX (14) or miCOMPRESSED (15)");
            }
            Parser parser = new Parser(file, body, order, element.type == MI_COMPRESSED, reportBase);
            MatArray array = parser.matrix(bodyStart, bodyLength, null);
            variables.put(array.name(), array);
            offset = element.type == MI_COMPRESSED ? element.dataStart + element.length : element.next;
        }
        return new MatFile(file, Collections.unmodifiableMap(variables));
    }

    private static byte[] inflate(Path file, byte[] bytes, int start, int length, int elementOffset) {
        if (start + (long) length > bytes.length) {
            throw new MatFormatException(
                    file,
                    null,
                    elementOffset,
                    "compressed element claims " + length + " bytes but the file ends at byte " + bytes.length);
        }
        Inflater inflater = new Inflater();
        try {
            inflater.setInput(bytes, start, length);
            byte[] out = new byte[Math.max(64, length * 4)];
            int produced = 0;
            while (!inflater.finished()) {
                if (produced == out.length) {
                    if (out.length >= MAX_ELEMENTS * 8) {
                        throw new MatFormatException(
                                file, null, elementOffset, "compressed element inflates past 2 GiB");
                    }
                    out = java.util.Arrays.copyOf(out, (int) Math.min(Integer.MAX_VALUE - 8, out.length * 2L));
                }
                int n = inflater.inflate(out, produced, out.length - produced);
                if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                    throw new MatFormatException(
                            file,
                            null,
                            elementOffset,
                            "compressed element is truncated (zlib stream ends after " + produced + " inflated bytes)");
                }
                produced += n;
            }
            return java.util.Arrays.copyOf(out, produced);
        } catch (DataFormatException e) {
            throw new MatFormatException(
                    file, null, elementOffset, "compressed element is not valid zlib data: " + e.getMessage());
        } finally {
            inflater.end();
        }
    }

    /** The file this was read from. */
    public Path file() {
        return file;
    }

    /** Variable names in file order. */
    public List<String> names() {
        return List.copyOf(variables.keySet());
    }

    /** The variable {@code name}; fails naming the file and the variables it does have. */
    public MatArray get(String name) {
        MatArray array = variables.get(name);
        if (array == null) {
            throw new MatFormatException(file, name, -1, "no such variable; the file holds " + variables.keySet());
        }
        return array;
    }

    public boolean contains(String name) {
        return variables.containsKey(name);
    }

    /** A tag plus where its data lies; {@code next} is the 8-byte aligned start of the following element. */
    private record Element(int type, int length, int dataStart, int next) {
        static Element at(Path file, String variable, byte[] bytes, ByteOrder order, int offset, long reportOffset) {
            if (offset + 8 > bytes.length) {
                throw new MatFormatException(
                        file,
                        variable,
                        reportOffset,
                        "element tag needs 8 bytes but only " + (bytes.length - offset) + " remain");
            }
            ByteBuffer tag = ByteBuffer.wrap(bytes, offset, 8).order(order);
            int first = tag.getInt(offset);
            int smallLength = order == ByteOrder.LITTLE_ENDIAN ? (first >>> 16) : (first & 0xFFFF);
            if (smallLength != 0) {
                // Small data element format: type and length share 4 bytes, data in the next 4.
                int type = order == ByteOrder.LITTLE_ENDIAN ? (first & 0xFFFF) : (first >>> 16);
                if (smallLength > 4) {
                    throw new MatFormatException(
                            file,
                            variable,
                            reportOffset,
                            "small data element claims " + smallLength + " bytes, at most 4 fit");
                }
                return new Element(type, smallLength, offset + 4, offset + 8);
            }
            int length = tag.getInt(offset + 4);
            if (length < 0 || offset + 8L + length > bytes.length) {
                throw new MatFormatException(
                        file,
                        variable,
                        reportOffset,
                        "element of type " + first + " claims " + Integer.toUnsignedString(length) + " bytes but only "
                                + (bytes.length - offset - 8) + " remain (truncated file?)");
            }
            long next = offset + 8L + ((length + 7L) & ~7L);
            return new Element(first, length, offset + 8, (int) Math.min(next, bytes.length));
        }
    }

    /** Walks one miMATRIX; offsets in messages are file offsets, or offsets inside the inflated element. */
    private static final class Parser {
        private final Path file;
        private final byte[] bytes;
        private final ByteOrder order;
        private final boolean inflated;
        private final long compressedElementOffset;

        Parser(Path file, byte[] bytes, ByteOrder order, boolean inflated, long compressedElementOffset) {
            this.file = file;
            this.bytes = bytes;
            this.order = order;
            this.inflated = inflated;
            this.compressedElementOffset = compressedElementOffset;
        }

        private MatFormatException error(String variable, int offset, String message) {
            if (inflated) {
                return new MatFormatException(
                        file,
                        variable,
                        compressedElementOffset,
                        message + " (at byte " + offset + " of the inflated element)");
            }
            return new MatFormatException(file, variable, offset, message);
        }

        private Element element(String variable, int offset, int end) {
            if (offset + 8 > end) {
                throw error(variable, offset, "expected a sub-element but the enclosing miMATRIX ends at byte " + end);
            }
            Element element =
                    Element.at(file, variable, bytes, order, offset, inflated ? compressedElementOffset : offset);
            if (element.dataStart + (long) element.length > end) {
                throw error(variable, offset, "sub-element of " + element.length + " bytes overruns its miMATRIX");
            }
            return element;
        }

        /** Parses the miMATRIX whose data (after the tag) is {@code [start, start+length)}. */
        MatArray matrix(int start, int length, String parentName) {
            int end = start + length;
            if (length == 0) {
                // MATLAB writes [] inside cells and structs as a bare zero-length miMATRIX.
                return new MatArray.Numeric(
                        parentName == null ? "" : parentName,
                        new int[] {0, 0},
                        MatArray.NumericClass.DOUBLE,
                        new double[0]);
            }
            Element flags = element(parentName, start, end);
            if (flags.type != MI_UINT32 || flags.length != 8) {
                throw error(
                        parentName,
                        start,
                        "array flags sub-element has type " + flags.type + " and " + flags.length
                                + " bytes, expected miUINT32 (6) with 8 bytes");
            }
            int flagWord = ByteBuffer.wrap(bytes).order(order).getInt(flags.dataStart);
            int arrayClass = flagWord & 0xFF;
            boolean complex = (flagWord & FLAG_COMPLEX) != 0;

            Element dimsElement = element(parentName, flags.next, end);
            if (dimsElement.type != MI_INT32 || dimsElement.length % 4 != 0 || dimsElement.length < 8) {
                throw error(
                        parentName,
                        flags.next,
                        "dimensions sub-element has type " + dimsElement.type + " and " + dimsElement.length
                                + " bytes, expected miINT32 with at least 2 entries");
            }
            int[] dims = new int[dimsElement.length / 4];
            long count = 1;
            ByteBuffer view = ByteBuffer.wrap(bytes).order(order);
            for (int i = 0; i < dims.length; i++) {
                dims[i] = view.getInt(dimsElement.dataStart + 4 * i);
                if (dims[i] < 0) {
                    throw error(parentName, dimsElement.dataStart, "dimension " + i + " is negative (" + dims[i] + ")");
                }
                count *= dims[i];
            }
            if (count > MAX_ELEMENTS) {
                throw error(
                        parentName,
                        dimsElement.dataStart,
                        "array has " + count + " elements, more than this reader accepts");
            }
            int elementCount = (int) count;

            Element nameElement = element(parentName, dimsElement.next, end);
            if (nameElement.type != MI_INT8 && nameElement.type != MI_UINT8) {
                throw error(
                        parentName,
                        dimsElement.next,
                        "array name sub-element has type " + nameElement.type + ", expected miINT8 (1)");
            }
            String name = new String(bytes, nameElement.dataStart, nameElement.length, StandardCharsets.US_ASCII);
            String label = name.isEmpty() ? (parentName == null ? "<unnamed>" : parentName) : name;
            int cursor = nameElement.next;

            if (arrayClass >= MX_FIRST_NUMERIC && arrayClass <= MX_LAST_NUMERIC) {
                if (complex) {
                    throw error(label, start, "complex arrays are not supported");
                }
                Element real = element(label, cursor, end);
                double[] values = numbers(label, real, elementCount, cursor);
                return new MatArray.Numeric(label, dims, MatArray.NumericClass.ofMatClass(arrayClass), values);
            }
            switch (arrayClass) {
                case MX_CHAR: {
                    if (elementCount == 0 && cursor >= end) {
                        return new MatArray.Chars(label, dims, new char[0]);
                    }
                    Element data = element(label, cursor, end);
                    return new MatArray.Chars(label, dims, chars(label, data, elementCount, cursor));
                }
                case MX_CELL: {
                    List<MatArray> cells = new ArrayList<>(elementCount);
                    for (int i = 0; i < elementCount; i++) {
                        Element cell = element(label, cursor, end);
                        if (cell.type != MI_MATRIX) {
                            throw error(
                                    label,
                                    cursor,
                                    "cell " + (i + 1) + " has data type " + cell.type + ", expected miMATRIX (14)");
                        }
                        cells.add(matrix(cell.dataStart, cell.length, label + "{" + (i + 1) + "}"));
                        cursor = cell.next;
                    }
                    return new MatArray.Cell(label, dims, cells);
                }
                case MX_STRUCT: {
                    Element nameLength = element(label, cursor, end);
                    if (nameLength.type != MI_INT32 || nameLength.length != 4) {
                        throw error(
                                label,
                                cursor,
                                "struct field-name length has type " + nameLength.type + ", expected miINT32");
                    }
                    int fieldNameLength = view.getInt(nameLength.dataStart);
                    cursor = nameLength.next;
                    Element names = element(label, cursor, end);
                    if (fieldNameLength <= 0 || names.length % fieldNameLength != 0) {
                        throw error(
                                label,
                                cursor,
                                "struct field names take " + names.length
                                        + " bytes, not a multiple of the field-name length " + fieldNameLength);
                    }
                    List<String> fieldNames = new ArrayList<>();
                    for (int f = 0; f < names.length / fieldNameLength; f++) {
                        int from = names.dataStart + f * fieldNameLength;
                        int to = from;
                        while (to < from + fieldNameLength && bytes[to] != 0) {
                            to++;
                        }
                        fieldNames.add(new String(bytes, from, to - from, StandardCharsets.US_ASCII));
                    }
                    cursor = names.next;
                    List<Map<String, MatArray>> elements = new ArrayList<>(elementCount);
                    for (int i = 0; i < elementCount; i++) {
                        Map<String, MatArray> fields = new LinkedHashMap<>();
                        for (String field : fieldNames) {
                            Element value = element(label, cursor, end);
                            if (value.type != MI_MATRIX) {
                                throw error(
                                        label,
                                        cursor,
                                        "field '" + field + "' of element " + (i + 1) + " has data type " + value.type
                                                + ", expected miMATRIX (14)");
                            }
                            fields.put(
                                    field, matrix(value.dataStart, value.length, label + "(" + (i + 1) + ")." + field));
                            cursor = value.next;
                        }
                        elements.add(Collections.unmodifiableMap(fields));
                    }
                    return new MatArray.Struct(label, dims, List.copyOf(fieldNames), elements);
                }
                case MX_SPARSE:
                    throw error(label, start, "sparse arrays are not supported");
                case MX_OBJECT:
                    throw error(label, start, "MATLAB objects are not supported");
                default:
                    throw error(label, start, "array class " + arrayClass + " is not supported");
            }
        }

        private double[] numbers(String label, Element data, int count, int offset) {
            int width = width(data.type);
            if (width == 0) {
                throw error(label, offset, "numeric data has data type " + data.type + ", expected a numeric miTYPE");
            }
            if ((long) count * width != data.length) {
                throw error(
                        label,
                        offset,
                        "numeric data holds " + data.length + " bytes, expected " + count + " values of " + width
                                + " bytes");
            }
            ByteBuffer view = ByteBuffer.wrap(bytes).order(order);
            double[] values = new double[count];
            int p = data.dataStart;
            for (int i = 0; i < count; i++, p += width) {
                values[i] = switch (data.type) {
                    case MI_INT8 -> bytes[p];
                    case MI_UINT8 -> bytes[p] & 0xFF;
                    case MI_INT16 -> view.getShort(p);
                    case MI_UINT16 -> view.getShort(p) & 0xFFFF;
                    case MI_INT32 -> view.getInt(p);
                    case MI_UINT32 -> view.getInt(p) & 0xFFFFFFFFL;
                    case MI_SINGLE -> view.getFloat(p);
                    case MI_DOUBLE -> view.getDouble(p);
                    case MI_INT64 -> view.getLong(p);
                    case MI_UINT64 -> unsignedToDouble(view.getLong(p));
                    default -> throw new AssertionError(data.type);
                };
            }
            return values;
        }

        private char[] chars(String label, Element data, int count, int offset) {
            String text;
            switch (data.type) {
                case MI_UINT16, MI_UTF16, MI_INT16 -> {
                    if (data.length != count * 2L) {
                        throw error(
                                label,
                                offset,
                                "char data holds " + data.length + " bytes, expected " + count + " UTF-16 code units");
                    }
                    char[] out = new char[count];
                    ByteBuffer view = ByteBuffer.wrap(bytes).order(order);
                    for (int i = 0; i < count; i++) {
                        out[i] = view.getChar(data.dataStart + 2 * i);
                    }
                    return out;
                }
                case MI_UTF8, MI_UINT8, MI_INT8 -> text = decodeUtf8OrLatin1(data, count);
                case MI_UTF32 ->
                    text = new String(
                            bytes,
                            data.dataStart,
                            data.length,
                            order == ByteOrder.LITTLE_ENDIAN
                                    ? java.nio.charset.Charset.forName("UTF-32LE")
                                    : java.nio.charset.Charset.forName("UTF-32BE"));
                default ->
                    throw error(
                            label,
                            offset,
                            "char data has data type " + data.type + ", expected miUINT16, miUTF8 or miUTF16");
            }
            if (text.length() != count && data.type != MI_UTF8) {
                throw error(
                        label,
                        offset,
                        "char data decodes to " + text.length() + " characters, dimensions say " + count);
            }
            return text.toCharArray();
        }

        /**
         * Octave writes chars as miUTF8 with one dimension unit per byte: valid UTF-8 is decoded as such,
         * anything else byte-per-char (ISO-8859-1), which is what char(233) means there.
         */
        private String decodeUtf8OrLatin1(Element data, int count) {
            java.nio.charset.CharsetDecoder strict = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                    .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT);
            try {
                return strict.decode(ByteBuffer.wrap(bytes, data.dataStart, data.length))
                        .toString();
            } catch (java.nio.charset.CharacterCodingException e) {
                return new String(bytes, data.dataStart, data.length, StandardCharsets.ISO_8859_1);
            }
        }

        private static int width(int type) {
            return switch (type) {
                case MI_INT8, MI_UINT8 -> 1;
                case MI_INT16, MI_UINT16 -> 2;
                case MI_INT32, MI_UINT32, MI_SINGLE -> 4;
                case MI_DOUBLE, MI_INT64, MI_UINT64 -> 8;
                default -> 0;
            };
        }

        private static double unsignedToDouble(long value) {
            return value >= 0 ? value : (double) (value >>> 1) * 2.0 + (value & 1);
        }
    }
}
