package org.sefonnx.contract;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * What runtime-infer needs to read of an ONNX model file without a protobuf library (it has none, on purpose): the
 * metadata and how many nodes of each (domain, op type) the main graph holds. It walks protobuf's wire format (a field
 * is a varint key, field number · 8 + wire type, then its value; length-delimited values are skipped by their length)
 * through onnx.proto's field numbers, reading the file in small chunks, so the weights are never held in memory.
 */
public final class OnnxModelScan {
    // onnx.proto: ModelProto.graph = 7, ModelProto.metadata_props = 14 (StringStringEntryProto key = 1, value = 2),
    // GraphProto.node = 1, NodeProto.op_type = 4, NodeProto.domain = 7
    private static final int MODEL_GRAPH = 7, MODEL_METADATA = 14, ENTRY_KEY = 1, ENTRY_VALUE = 2;
    private static final int GRAPH_NODE = 1, NODE_OP_TYPE = 4, NODE_DOMAIN = 7;
    private static final int VARINT = 0, FIXED64 = 1, LENGTH_DELIMITED = 2, FIXED32 = 5;

    private final Map<String, String> metadata;
    private final Map<String, Integer> operators;

    private OnnxModelScan(Map<String, String> metadata, Map<String, Integer> operators) {
        this.metadata = Collections.unmodifiableMap(metadata);
        this.operators = Collections.unmodifiableMap(operators);
    }

    /** The metadata of {@code model} only (its graph skipped). */
    public static Map<String, String> metadata(Path model) throws IOException {
        return read(model, false).metadata;
    }

    /** The metadata and the node counts of {@code model}'s main graph. */
    public static OnnxModelScan read(Path model) throws IOException {
        return read(model, true);
    }

    private static OnnxModelScan read(Path model, boolean nodes) throws IOException {
        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, Integer> operators = new TreeMap<>();
        try (Wire in = new Wire(FileChannel.open(model, StandardOpenOption.READ))) {
            while (!in.atEnd(in.size)) {
                long key = in.varint();
                int field = (int) (key >>> 3), type = (int) (key & 7);
                if (field == MODEL_METADATA && type == LENGTH_DELIMITED) {
                    String[] entry = in.strings(ENTRY_KEY, ENTRY_VALUE);
                    metadata.put(entry[0], entry[1]);
                } else if (field == MODEL_GRAPH && type == LENGTH_DELIMITED && nodes) {
                    long end = in.position() + in.varint();
                    while (!in.atEnd(end)) {
                        long graphKey = in.varint();
                        if (graphKey >>> 3 == GRAPH_NODE && (graphKey & 7) == LENGTH_DELIMITED) {
                            String[] node = in.strings(NODE_DOMAIN, NODE_OP_TYPE);
                            operators.merge(qualified(node[0], node[1]), 1, Integer::sum);
                        } else {
                            in.skip((int) (graphKey & 7));
                        }
                    }
                } else {
                    in.skip(type);
                }
            }
        } catch (EOFException | IllegalStateException e) {
            throw new FileFormatException(model, "is not an ONNX model (protobuf ModelProto): " + e.getMessage(), e);
        }
        return new OnnxModelScan(metadata, operators);
    }

    /** {@code domain:op}, the key of {@link #operators} (the ONNX domain is written "" or "ai.onnx"; both read as ""). */
    public static String qualified(String domain, String op) {
        return (domain.equals("ai.onnx") ? "" : domain) + ":" + op;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    /** Node counts of the main graph by {@link #qualified} op, sorted. */
    public Map<String, Integer> operators() {
        return operators;
    }

    /** Buffered reading of protobuf wire values from a file channel. */
    private static final class Wire implements AutoCloseable {
        private final FileChannel channel;
        private final long size;
        private final ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
        /** The file position of buffer[0]. */
        private long bufferStart;

        Wire(FileChannel channel) throws IOException {
            this.channel = channel;
            this.size = channel.size();
            buffer.limit(0);
        }

        long position() {
            return bufferStart + buffer.position();
        }

        boolean atEnd(long end) {
            if (end > size) throw new IllegalStateException("a field runs past the end of the file");
            return position() >= end;
        }

        private byte next() throws IOException {
            if (!buffer.hasRemaining()) {
                bufferStart += buffer.position();
                buffer.clear();
                if (channel.read(buffer, bufferStart) <= 0) throw new EOFException("the file ends inside a field");
                buffer.flip();
            }
            return buffer.get();
        }

        long varint() throws IOException {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                byte b = next();
                v |= (long) (b & 0x7f) << shift;
                if (b >= 0) return v;
            }
            throw new IllegalStateException("a varint is longer than 10 bytes");
        }

        String string() throws IOException {
            long length = varint();
            if (length > 1 << 20) throw new IllegalStateException("a name of " + length + " bytes");
            byte[] bytes = new byte[(int) length];
            for (int i = 0; i < bytes.length; i++) bytes[i] = next();
            return new String(bytes, StandardCharsets.UTF_8);
        }

        /**
         * Reads a length-delimited message and returns its string fields {@code first} and {@code second} ("" when
         * absent), skipping the rest.
         */
        String[] strings(int first, int second) throws IOException {
            long end = position() + varint();
            String[] r = {"", ""};
            while (!atEnd(end)) {
                long key = varint();
                int field = (int) (key >>> 3), type = (int) (key & 7);
                if (type == LENGTH_DELIMITED && field == first) r[0] = string();
                else if (type == LENGTH_DELIMITED && field == second) r[1] = string();
                else skip(type);
            }
            return r;
        }

        /** Skips one value of wire type {@code type}. */
        void skip(int type) throws IOException {
            switch (type) {
                case VARINT -> varint();
                case FIXED64 -> seek(position() + 8);
                case LENGTH_DELIMITED -> {
                    long length = varint();
                    seek(position() + length);
                }
                case FIXED32 -> seek(position() + 4);
                default ->
                    throw new IllegalStateException("wire type " + type + " (groups are not used by onnx.proto)");
            }
        }

        private void seek(long target) {
            if (target > size) throw new IllegalStateException("a field runs past the end of the file");
            if (target >= bufferStart && target <= bufferStart + buffer.limit()) {
                buffer.position((int) (target - bufferStart));
            } else {
                bufferStart = target;
                buffer.limit(0);
            }
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }
}
