package org.sefonnx.generator.weights;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The named tensors of a weights file a user hands us (safetensors or ONNX), with the file's SHA-256 so a checkpoint
 * can record exactly which file it started from. Values convert to float32 only when asked for.
 */
public record WeightsFile(String source, Format format, String sha256, Map<String, Entry> tensors) {
    public enum Format {
        SAFETENSORS,
        ONNX
    }

    /** One tensor: its shape, its element type as the file names it, and its values on demand. */
    public record Entry(String name, long[] shape, String dtype, boolean floating, Supplier<float[]> values) {
        @Override
        public long[] shape() {
            return shape.clone();
        }

        @Override
        public String toString() {
            return name + " " + dtype + Arrays.toString(shape);
        }
    }

    public WeightsFile {
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    }

    /**
     * Reads a safetensors file or an ONNX model, told apart by their first bytes; a file named {@code .safetensors} is
     * always read as one, so a damaged one gets the safetensors message, never protobuf's.
     */
    public static WeightsFile read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(file + ": no such file");
        long size = Files.size(file);
        if (size > Integer.MAX_VALUE - 8L)
            throw new IllegalArgumentException(
                    file + ": " + size + " bytes; weights files over 2 GiB are not supported");
        byte[] bytes = Files.readAllBytes(file);
        String sha = sha256(bytes);
        String source = file.toString();
        boolean named = file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(SAFETENSORS_SUFFIX);
        if (named || looksLikeSafeTensors(bytes) || startsLikeSafeTensorsHeader(bytes)) {
            SafeTensors.Contents c = SafeTensors.read(bytes, source);
            Map<String, Entry> m = new LinkedHashMap<>();
            for (SafeTensors.Tensor t : c.tensors().values()) {
                m.put(
                        t.name(),
                        new Entry(
                                t.name(), t.shape(), t.dtype().name(), t.dtype().floating(), t::toFloats));
            }
            return new WeightsFile(source, Format.SAFETENSORS, sha, m);
        }
        if (bytes.length >= 4 && bytes[0] == 'P' && bytes[1] == 'K' && bytes[2] == 3 && bytes[3] == 4
                || bytes.length >= 1 && (bytes[0] & 0xff) == 0x80) {
            throw new IllegalArgumentException(source
                    + ": a PyTorch pickle (torch.save) checkpoint, which is not read here (unpickling runs code); "
                    + "convert it once with safetensors.torch.save_file(model.state_dict(), 'model.safetensors')");
        }
        return new WeightsFile(source, Format.ONNX, sha, OnnxWeights.read(bytes, file));
    }

    /**
     * A safetensors file starts with a little-endian header length within the format's limit and then '{'. The length
     * is not compared with the file size here: a truncated safetensors file must be reported as one by SafeTensors,
     * not parsed as ONNX.
     */
    static boolean looksLikeSafeTensors(byte[] b) {
        if (!startsLikeSafeTensorsHeader(b)) return false;
        long n = 0;
        for (int i = 7; i >= 0; i--) n = (n << 8) | (b[i] & 0xff);
        return n > 0 && n <= SafeTensors.MAX_HEADER_BYTES;
    }

    /**
     * A JSON header opening after 8 bytes: a safetensors file whatever its length field says (an absurd one, 2^62, is
     * then reported by SafeTensors, where protobuf would only call the bytes an invalid wire type).
     */
    private static boolean startsLikeSafeTensorsHeader(byte[] b) {
        return b.length >= 9 && b[8] == '{';
    }

    /** The file name ending of safetensors files (huggingface/safetensors, and timm's model.safetensors). */
    static final String SAFETENSORS_SUFFIX = ".safetensors";

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
