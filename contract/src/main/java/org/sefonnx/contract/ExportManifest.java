package org.sefonnx.contract;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@value #FILE_NAME}: the SHA-256 of every file of an export, one {@code <hex>  <name>} line each, the format of
 * coreutils' {@code sha256sum}, so {@code sha256sum -c SHA256SUMS} checks an export by hand. The exporter writes it
 * last, after every other file of the export: an export is whole exactly when its manifest exists and matches. It
 * lists {@link ExportLayout#REQUIRED_FILES} in that order, so it is the very listing runtime-spark hashes into the
 * model's identity.
 */
public final class ExportManifest {
    public static final String FILE_NAME = "SHA256SUMS";

    /** {@code sha256sum}'s line: 64 hex digits, a space, a space (text mode) or '*' (binary mode), the name. */
    private static final Pattern LINE = Pattern.compile("([0-9a-fA-F]{64}) [ *](.+)");

    private ExportManifest() {}

    /**
     * Hashes the files {@code names} of {@code dir}, in that order, and writes the manifest atomically; returns the
     * entries, name to SHA-256 hex. The exporter passes what it wrote ({@link ExportLayout#REQUIRED_FILES}): other
     * files in the directory (a user's notes, a safetensors export) are not part of the export and are not listed.
     */
    public static Map<String, String> write(Path dir, List<String> names) throws IOException {
        Map<String, String> entries = new LinkedHashMap<>();
        StringBuilder text = new StringBuilder();
        for (String name : names) {
            String hash = sha256(dir.resolve(name));
            if (entries.put(name, hash) != null) throw new IllegalArgumentException(name + " is listed twice");
            text.append(hash).append("  ").append(name).append('\n');
        }
        AtomicFiles.writeString(dir.resolve(FILE_NAME), text.toString());
        return entries;
    }

    /**
     * The entries of {@code file}, name to lower-case SHA-256 hex, in file order. Refuses what is not sha256sum's
     * output of plain file names (a path, a repeated name, a malformed line) with a {@link FileFormatException} naming the
     * line.
     */
    public static Map<String, String> read(Path file) throws IOException {
        String text;
        try {
            text = StandardCharsets.UTF_8
                    .newDecoder()
                    .decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file)))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new FileFormatException(file, "is not UTF-8 text", e);
        } catch (NoSuchFileException e) {
            throw new FileFormatException(file, "missing", e);
        }
        Map<String, String> entries = new LinkedHashMap<>();
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].isEmpty() && i == lines.length - 1) break;
            Matcher m = LINE.matcher(lines[i]);
            String name = m.matches() ? m.group(2) : null;
            if (name == null || name.contains("/") || name.contains("\\") || name.equals(".") || name.equals("..")) {
                throw new FileFormatException(
                        file,
                        "line " + (i + 1) + " is not '<64 hex digits>  <file name>' (what sha256sum prints for a "
                                + "file of this directory)",
                        null);
            }
            if (entries.put(name, m.group(1).toLowerCase(java.util.Locale.ROOT)) != null)
                throw new FileFormatException(file, "line " + (i + 1) + " lists " + name + " a second time", null);
        }
        return entries;
    }

    /** SHA-256 (lower-case hex) of a file, read in chunks. */
    public static String sha256(Path file) throws IOException {
        MessageDigest digest = digest();
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) > 0; ) digest.update(buffer, 0, n);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /** SHA-256 (lower-case hex) of bytes. */
    public static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(digest().digest(bytes));
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }
}
