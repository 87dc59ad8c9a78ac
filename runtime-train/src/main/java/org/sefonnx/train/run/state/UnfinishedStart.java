package org.sefonnx.train.run.state;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.sefonnx.contract.AtomicFiles;

/**
 * A new run's folder between its first file and its first run state: a marker file, written before anything else and
 * removed after the state's first commit, tells a start that was killed in those seconds from a folder of the user's.
 * The same {@code train} command then removes the start's own files (and nothing else) and begins again.
 */
public final class UnfinishedStart {
    /** The marker: its presence without a run state is an unfinished start. */
    public static final String MARKER = ".sef-onnx-start";

    private UnfinishedStart() {}

    /** The top-level names a start writes before its first state commit (the marker first). */
    static List<String> ownNames(RunDirectory run) {
        List<Path> own = List.of(
                run.root().resolve(MARKER),
                run.artifacts(),
                run.checkpoints(),
                run.runProperties(),
                run.labels(),
                run.validationList(),
                run.demoData());
        return own.stream().map(p -> p.getFileName().toString()).toList();
    }

    /** True when {@code run} holds a marked start and no run state. */
    static boolean isOne(RunDirectory run) {
        return Files.exists(run.root().resolve(MARKER)) && !RunState.exists(run);
    }

    /** Creates the folder and the marker; the first write of a new run (plain, not atomic: its presence is all it says). */
    public static void mark(RunDirectory run) throws IOException {
        Files.createDirectories(run.root());
        Files.write(
                run.root().resolve(MARKER),
                ("sef-onnx is setting up this run; a start stopped before checkpoints/" + RunState.FILE
                                + " existed is begun again by the same `sef-onnx train` command\n")
                        .getBytes(StandardCharsets.UTF_8));
    }

    /** Removes the marker once the run state exists. */
    public static void unmark(RunDirectory run) throws IOException {
        Files.deleteIfExists(run.root().resolve(MARKER));
    }

    /** The entries of the folder that are neither the start's own files nor their temp files: never deleted. */
    static List<String> foreignEntries(RunDirectory run) throws IOException {
        List<String> own = ownNames(run), foreign = new ArrayList<>();
        try (Stream<Path> children = Files.list(run.root())) {
            for (Path child : children.toList()) {
                String name = child.getFileName().toString();
                if (!own.contains(name) && !isOwnTemp(name, own)) foreign.add(name);
            }
        }
        return foreign;
    }

    /** Deletes the unfinished start's own files (the folder itself stays); refuses when anything else is there. */
    public static void clear(RunDirectory run) throws IOException {
        List<String> foreign = foreignEntries(run);
        if (!foreign.isEmpty()) throw refusal(run, foreign);
        List<String> own = ownNames(run);
        try (Stream<Path> children = Files.list(run.root())) {
            for (Path child : children.toList()) {
                String name = child.getFileName().toString();
                if (own.contains(name) || isOwnTemp(name, own)) StartChecks.deleteTree(child);
            }
        }
    }

    /** Why a folder with a marker and files of someone else's is not touched. */
    static IllegalArgumentException refusal(RunDirectory run, List<String> foreign) {
        return new IllegalArgumentException("--out " + run.root()
                + " holds a sef-onnx start that was stopped before its first epoch, and also "
                + String.join(", ", foreign)
                + ", which sef-onnx did not write; nothing was deleted. Move those elsewhere and run the command again,"
                + " or choose another --out");
    }

    /** An atomic writer's temp file of one of the start's own top-level files ({@code .name.random.tmp}). */
    private static boolean isOwnTemp(String name, List<String> own) {
        if (!AtomicFiles.isTemp(Path.of(name))) return false;
        for (String o : own) if (name.startsWith("." + o + ".")) return true;
        return false;
    }
}
