package org.sefonnx.contract;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes files through a temp file in the same directory and an atomic rename, so no reader (and no run resumed after
 * a kill) sees half a file. The one file-writing helper of sef-onnx: files get the mode any tool's output gets under
 * the process umask. A killed process loses nothing the kernel already holds; {@link #writeDurably} also survives a
 * power loss, at the cost of a disk flush (used for small commit records, not for 200 MB checkpoints).
 */
public final class AtomicFiles {
    /** Every temp file this class creates is named {@code .<name>.<random>.tmp}. */
    public static final String TEMP_SUFFIX = ".tmp";

    /** A writer that must produce the bytes itself (a native library given a path); it writes {@code temp} only. */
    @FunctionalInterface
    public interface PathWriter {
        void writeTo(Path temp) throws IOException;
    }

    private AtomicFiles() {}

    public static void write(Path file, byte[] bytes) throws IOException {
        write(file, bytes, false);
    }

    /** {@link #write}, with the data flushed to the disk before the rename. */
    public static void writeDurably(Path file, byte[] bytes) throws IOException {
        write(file, bytes, true);
    }

    public static void writeString(Path file, String text) throws IOException {
        write(file, text.getBytes(StandardCharsets.UTF_8));
    }

    private static void write(Path file, byte[] bytes, boolean flush) throws IOException {
        writeVia(file, tmp -> {
            // CREATE_NEW without file attributes: the mode is 0666 minus the umask (createTempFile would force 0600)
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer buffer = ByteBuffer.wrap(bytes);
                while (buffer.hasRemaining()) channel.write(buffer);
                if (flush) channel.force(true);
            }
        });
    }

    /**
     * Lets {@code writer} produce the file at a fresh temp path next to {@code file}, then renames it into place; the
     * temp file is gone afterwards whether the writer succeeded or threw. For writers that create the file themselves
     * (ORT's SaveCheckpoint and ExportModelForInferencing), whose mode then follows the umask as well.
     */
    public static void writeVia(Path file, PathWriter writer) throws IOException {
        Path tmp = tempSibling(file);
        try {
            writer.writeTo(tmp);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** A fresh temp path next to {@code file} (its directory created); nothing is created at that path. */
    static Path tempSibling(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        return dir.resolve("." + file.getFileName() + "."
                + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1) + TEMP_SUFFIX);
    }

    /** True for a temp file a killed writer may have left ({@code .name[.random].tmp}). */
    public static boolean isTemp(Path file) {
        String name = file.getFileName().toString();
        return name.startsWith(".") && name.endsWith(TEMP_SUFFIX);
    }

    /** Deletes the temp files killed writers left in {@code dir} (not recursive); returns how many. */
    public static int deleteTemps(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return 0;
        int deleted = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, AtomicFiles::isTemp)) {
            for (Path f : files) if (Files.deleteIfExists(f)) deleted++;
        }
        return deleted;
    }
}
