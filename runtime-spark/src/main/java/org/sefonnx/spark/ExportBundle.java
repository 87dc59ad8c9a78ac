package org.sefonnx.spark;

import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.contract.ExportManifest;
import org.sefonnx.infer.ExportDirectory;
import org.sefonnx.infer.InvalidExportException;

/**
 * The three files of an export directory as bytes, with their SHA-256 identity: what the driver broadcasts so that
 * executors need no shared file system. The directory is checked first by {@link ExportDirectory#open} (its manifest
 * included), and the bytes read must hash to what the manifest records. The identity is the SHA-256 of the
 * {@code sha256sum} listing of the files in {@link ExportLayout#REQUIRED_FILES} order, so
 * {@code sha256sum model.onnx labels.txt preprocessing.properties | sha256sum} reproduces it (for an export of just
 * those files, {@code sha256sum SHA256SUMS} does too).
 */
public final class ExportBundle implements Serializable {
    private static final long serialVersionUID = 1L;

    private final LinkedHashMap<String, byte[]> files;
    private final String sha256;

    private ExportBundle(LinkedHashMap<String, byte[]> files, String sha256) {
        this.files = files;
        this.sha256 = sha256;
    }

    /** {@link #read(Path, boolean)} with the manifest check on. */
    public static ExportBundle read(Path exportDir) throws IOException {
        return read(exportDir, true);
    }

    /**
     * Checks {@code exportDir} ({@link ExportDirectory#open}; {@code verifyManifest} false skips its SHA-256 check, for
     * an export edited on purpose) and reads its three files.
     */
    public static ExportBundle read(Path exportDir, boolean verifyManifest) throws IOException {
        ExportDirectory export = ExportDirectory.open(exportDir, verifyManifest);
        LinkedHashMap<String, byte[]> files = new LinkedHashMap<>();
        for (String name : ExportLayout.REQUIRED_FILES) {
            byte[] bytes = Files.readAllBytes(export.file(name));
            String read = ExportManifest.sha256(bytes);
            // the bytes that travel are the ones the manifest vouches for, not a later version of the file
            if (export.recordedSha256(name)
                    .filter(recorded -> !recorded.equals(read))
                    .isPresent()) {
                throw new InvalidExportException(
                        export.file(name),
                        "changed while it was read (its SHA-256 is now " + read + "); read it again");
            }
            files.put(name, bytes);
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
            listing.append(ExportManifest.sha256(file.getValue()))
                    .append("  ")
                    .append(file.getKey())
                    .append('\n');
        }
        return ExportManifest.sha256(listing.toString().getBytes(StandardCharsets.UTF_8));
    }
}
