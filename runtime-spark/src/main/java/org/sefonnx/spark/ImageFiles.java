package org.sefonnx.spark;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Image files as a Dataset of Spark's {@code binaryFile} source ({@code path, modificationTime, length, content}),
 * with a glob in the file name turned into the source's {@code pathGlobFilter}: {@code load("photos/*.jpg")} makes
 * every matching file a root path of its own, which Spark lists with a job of one task per file (1,000 tasks for
 * 1,000 images, more than the classification's own time in bench/spark), while {@code load("photos")} with the
 * filter lists the folder once.
 */
public final class ImageFiles {
    /** Spark SQL's estimate of what opening one file costs, in bytes of reading. */
    public static final String OPEN_COST = "spark.sql.files.openCostInBytes";
    /**
     * What an image file counts as opening cost instead of Spark's 4 MB, which packs only ~32 small images into a
     * 128 MB partition: many short tasks, each paying a launch and a deserialized task (15 % more CPU for 1,000
     * images in bench/spark). With 8 KiB, partitions fill up with image bytes (at least one per core).
     */
    public static final long IMAGE_OPEN_COST_BYTES = 8 * 1024;

    private static final String GLOB_CHARACTERS = "*?[{";

    private ImageFiles() {}

    /** The files of {@code globOrDirectory}: a directory, a file, or a glob (any Hadoop file system). */
    public static Dataset<Row> read(SparkSession spark, String globOrDirectory) {
        int slash = globOrDirectory.lastIndexOf('/');
        String name = globOrDirectory.substring(slash + 1);
        String parent = slash < 0 ? "." : globOrDirectory.substring(0, Math.max(slash, 1));
        if (hasGlob(name) && !hasGlob(parent)) {
            return spark.read()
                    .format("binaryFile")
                    .option("pathGlobFilter", name)
                    .load(parent);
        }
        return spark.read().format("binaryFile").load(globOrDirectory);
    }

    /** Sets {@link #OPEN_COST} to {@link #IMAGE_OPEN_COST_BYTES} in {@code spark}'s session, unless the user set it. */
    public static void packPartitions(SparkSession spark) {
        if (!spark.conf().contains(OPEN_COST)) spark.conf().set(OPEN_COST, IMAGE_OPEN_COST_BYTES);
    }

    private static boolean hasGlob(String text) {
        for (char c : GLOB_CHARACTERS.toCharArray()) if (text.indexOf(c) >= 0) return true;
        return false;
    }
}
