package org.sefonnx.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFilesTest {
    private static final String MARKER = "image-files-test-marker";
    /** The job property SparkContext.setJobDescription sets (its constant is private to Spark). */
    private static final String JOB_DESCRIPTION = "spark.job.description";

    private static Set<String> names(List<Row> rows) {
        Set<String> names = new TreeSet<>();
        for (Row row : rows)
            names.add(Path.of(URI.create(row.getAs(SparkClassifier.PATH)))
                    .getFileName()
                    .toString());
        return names;
    }

    @Test
    void aGlobInTheFileNameListsTheFolderOnceWithoutASparkJob(@TempDir Path dir)
            throws IOException, InterruptedException {
        List<Path> files = TestImages.write(dir, 40, 9L);
        Set<String> pngs = new TreeSet<>();
        for (Path file : files)
            if (file.toString().endsWith(".png")) pngs.add(file.getFileName().toString());
        SparkSession spark = TestSpark.session();
        AtomicInteger jobsBeforeMarker = new AtomicInteger();
        CountDownLatch marker = new CountDownLatch(1);
        SparkListener countJobs = new SparkListener() {
            @Override
            public void onJobStart(SparkListenerJobStart jobStart) {
                if (MARKER.equals(jobStart.properties().getProperty(JOB_DESCRIPTION))) marker.countDown();
                else if (marker.getCount() > 0) jobsBeforeMarker.incrementAndGet();
            }
        };
        spark.sparkContext().addSparkListener(countJobs);
        try {
            // all 40 files: as 40 root paths they would pass Spark's parallel-listing threshold (32 paths)
            ImageFiles.read(spark, dir + "/*");
            // listener events arrive in order: a listing job would come before this marker job
            spark.sparkContext().setJobDescription(MARKER);
            spark.range(1).count();
            spark.sparkContext().setJobDescription(null);
            assertTrue(marker.await(30, TimeUnit.SECONDS), "marker job seen");
            assertEquals(0, jobsBeforeMarker.get());
        } finally {
            spark.sparkContext().removeSparkListener(countJobs);
        }
        assertEquals(19, pngs.size()); // kinds cycle RGB/gray/CMYK JPEG, RGB/RGBA/gray PNG
        assertEquals(pngs, names(ImageFiles.read(spark, dir + "/*.png").collectAsList()));
        assertEquals(40, ImageFiles.read(spark, dir.toString()).count());
        assertEquals(
                Set.of(files.get(3).getFileName().toString()),
                names(ImageFiles.read(spark, files.get(3).toString()).collectAsList()));
        assertEquals(
                pngs,
                names(ImageFiles.read(spark, dir.getParent() + "/" + dir.getFileName() + "*/*.png")
                        .collectAsList()));
    }

    @Test
    void partitionsArePackedByBytesUnlessTheUserSetTheOpenCost() {
        SparkSession fresh = TestSpark.session().newSession();
        fresh.conf().unset(ImageFiles.OPEN_COST);
        ImageFiles.packPartitions(fresh);
        assertEquals("8192", fresh.conf().get(ImageFiles.OPEN_COST));
        SparkSession configured = TestSpark.session().newSession();
        configured.conf().set(ImageFiles.OPEN_COST, "1m");
        ImageFiles.packPartitions(configured);
        assertEquals("1m", configured.conf().get(ImageFiles.OPEN_COST));
    }
}
