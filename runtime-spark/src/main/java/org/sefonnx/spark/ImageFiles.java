package org.sefonnx.spark;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.FileStatus;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.execution.datasources.HadoopFsRelation;
import org.apache.spark.sql.execution.datasources.LogicalRelation;
import org.apache.spark.sql.execution.datasources.PartitioningAwareFileIndex;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Image files as a Dataset of Spark's {@code binaryFile} source ({@code path, modificationTime, length, content}),
 * zero-byte files included, with a glob in the file name turned into the source's {@code pathGlobFilter}: {@code load("photos/*.jpg")} makes
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
    /** Whether Spark's rows hold java.time.Instant (true) or java.sql.Timestamp for a timestamp column. */
    private static final String JAVA8_DATETIME = "spark.sql.datetime.java8API.enabled";

    private ImageFiles() {}

    /**
     * The files of {@code globOrDirectory}: a directory, a file, or a glob (any Hadoop file system); every file one
     * row, a zero-byte file included (with empty content, which the classifier makes an error row).
     */
    public static Dataset<Row> read(SparkSession spark, String globOrDirectory) {
        Dataset<Row> files = binaryFiles(spark, globOrDirectory);
        List<Row> empty = emptyFiles(spark, files);
        return empty.isEmpty() ? files : files.union(spark.createDataFrame(empty, files.schema()));
    }

    private static Dataset<Row> binaryFiles(SparkSession spark, String globOrDirectory) {
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

    /**
     * Rows for the zero-byte files of a binaryFile read, which has none for them: Spark's file scan plans only files
     * with a length above 0 (FileSourceScanExec), for every file source. The file index the read listed still holds
     * them with their status, so no file is listed or opened again (Spark's internal classes: checked by
     * SparkClassifierTest for the Spark version the build uses).
     */
    private static List<Row> emptyFiles(SparkSession spark, Dataset<Row> files) {
        if (!(files instanceof org.apache.spark.sql.classic.Dataset<Row> classic)) {
            throw new IllegalStateException("ImageFiles needs a classic Spark session (not Spark Connect): "
                    + files.getClass().getName());
        }
        boolean instants = Boolean.parseBoolean(spark.conf().get(JAVA8_DATETIME, "false"));
        List<Row> empty = new ArrayList<>();
        for (LogicalPlan leaf :
                CollectionConverters.asJava(classic.queryExecution().analyzed().collectLeaves())) {
            if (!(leaf instanceof LogicalRelation relation)
                    || !(relation.relation() instanceof HadoopFsRelation fileRelation)) continue;
            // allFiles, not listFiles: listFiles leaves the zero-byte files out as well
            if (!(fileRelation.location() instanceof PartitioningAwareFileIndex index)) {
                throw new IllegalStateException("binaryFile listed its files with a "
                        + fileRelation.location().getClass().getName() + ", whose zero-byte files cannot be found");
            }
            for (FileStatus file : CollectionConverters.asJava(index.allFiles())) {
                if (file.getLen() > 0) continue;
                empty.add(RowFactory.create(
                        file.getPath().toString(),
                        instants
                                ? Instant.ofEpochMilli(file.getModificationTime())
                                : new Timestamp(file.getModificationTime()),
                        0L,
                        new byte[0]));
            }
        }
        return empty;
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
