package org.sefonnx.spark;

import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.infer.InvalidExportException;

/**
 * The three files of an export directory as bytes, with their SHA-256 identity: what the driver broadcasts so that
 * executors need no shared file system. The identity is the SHA-256 of the {@code sha256sum} listing of the files in
 * {@link ExportLayout#REQUIRED_FILES} order, so {@code sha256sum model.onnx labels.txt preprocessing.properties | sha256sum} reproduces it.
 */
public final class ExportBundle implements Serializable {
    private static final long serialVersionUID = 1L;

    private final LinkedHashMap<String, byte[]> files;
    private final String sha256;

    private ExportBundle(LinkedHashMap<String, byte[]> files, String sha256) {
        this.files = files;
        this.sha256 = sha256;
    }

    /** Reads the three files of {@code exportDir}; a missing one fails naming it. */
    public static ExportBundle read(Path exportDir) throws IOException {
        LinkedHashMap<String, byte[]> files = new LinkedHashMap<>();
        for (String name : ExportLayout.REQUIRED_FILES) {
            Path file = exportDir.resolve(name);
            if (!Files.isRegularFile(file)) {
                throw new InvalidExportException(
                        file, "missing; an export directory holds " + String.join(", ", ExportLayout.REQUIRED_FILES));
            }
            files.put(name, Files.readAllBytes(file));
        }
        return new ExportBundle(files, identity(files));
    }

    /** SHA-256 (hex) of the {@code sha256sum} listing of the files: the model's identity in executor caches. */
    public String sha256() {
        return sha256;
    }

    /** Total size of the files in bytes. */
    public long bytes() {
        return files.values().stream().mapToLong(b -> b.length).sum();
    }

    /**
     * Writes the files into a new directory under {@code parent} after checking that the bytes that arrived still
     * hash to {@code expectedSha256} (what the driver computed); returns the directory.
     */
    Path materialize(Path parent, String expectedSha256) throws IOException {
        String arrived = identity(files);
        if (!arrived.equals(expectedSha256) || !sha256.equals(expectedSha256)) {
            throw new IllegalStateException(
                    "export bundle: the files that reached this executor hash to " + arrived + ", expected SHA-256 "
                            + expectedSha256 + " (" + String.join(", ", ExportLayout.REQUIRED_FILES) + ")");
        }
        Files.createDirectories(parent);
        Path dir = Files.createTempDirectory(parent, "sef-model-" + expectedSha256.substring(0, 12) + "-");
        for (Map.Entry<String, byte[]> file : files.entrySet())
            Files.write(dir.resolve(file.getKey()), file.getValue());
        return dir;
    }

    private static String identity(Map<String, byte[]> files) {
        StringBuilder listing = new StringBuilder();
        for (Map.Entry<String, byte[]> file : files.entrySet()) {
            listing.append(hex(sha256(file.getValue())))
                    .append("  ")
                    .append(file.getKey())
                    .append('\n');
        }
        return hex(sha256(listing.toString().getBytes(StandardCharsets.UTF_8)));
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }

    private static String hex(byte[] digest) {
        return HexFormat.of().formatHex(digest);
    }
}
