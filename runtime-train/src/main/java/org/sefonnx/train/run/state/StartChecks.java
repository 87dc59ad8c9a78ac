package org.sefonnx.train.run.state;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.stream.Stream;

/** What a new run checks before it writes its first file, and how a start that failed anyway is undone. */
public final class StartChecks {
    private StartChecks() {}

    /**
     * --out must be new, empty or an unfinished start of sef-onnx's own ({@link UnfinishedStart}, begun again): a run
     * is continued with --resume, and another folder's files are never overwritten. Returns true for an unfinished start.
     */
    public static boolean requireNewRunFolder(RunDirectory run) throws IOException {
        Path out = run.root();
        if (RunState.exists(run)) {
            throw new IllegalArgumentException(out + " already holds a run (" + run.state()
                    + "); continue it with --resume " + out + " or choose another --out");
        }
        if (Files.exists(out) && !Files.isDirectory(out))
            throw new IllegalArgumentException("--out " + out + " is a file, not a folder");
        if (UnfinishedStart.isOne(run)) {
            List<String> foreign = UnfinishedStart.foreignEntries(run);
            if (!foreign.isEmpty()) throw UnfinishedStart.refusal(run, foreign);
            return true;
        }
        if (Files.isDirectory(out)) {
            try (Stream<Path> children = Files.list(out)) {
                if (children.findAny().isPresent()) {
                    throw new IllegalArgumentException("--out " + out
                            + " is a folder that is not empty and holds no sef-onnx run (no "
                            + out.relativize(run.state()) + "); nothing was written. Choose a new or empty folder");
                }
            }
        }
        return false;
    }

    /**
     * Removes what a failed start wrote: the whole folder when the run created it, else (it was empty) its contents.
     * A failure to clean up is attached to {@code cause} rather than hiding it.
     */
    public static void removeFailedStart(RunDirectory run, boolean folderExisted, Throwable cause) {
        Path root = run.root();
        if (!Files.isDirectory(root)) return;
        try {
            if (!folderExisted) {
                deleteTree(root);
                return;
            }
            try (Stream<Path> children = Files.list(root)) {
                for (Path child : children.toList()) deleteTree(child);
            }
        } catch (IOException e) {
            cause.addSuppressed(e);
        }
    }

    /** Deletes {@code top}, a file or a folder with everything under it. */
    static void deleteTree(Path top) throws IOException {
        Files.walkFileTree(top, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                if (e != null) throw e;
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
