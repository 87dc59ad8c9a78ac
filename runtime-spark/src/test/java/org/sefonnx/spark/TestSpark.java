package org.sefonnx.spark;

import org.apache.spark.sql.SparkSession;

/** The one Spark session of the test JVM: local[2], as in CI, no UI; Spark itself stops it at JVM exit. */
final class TestSpark {
    /** Local mode runs this many tasks at once, one per core. */
    static final int CORES = 2;

    private static SparkSession session;

    private TestSpark() {}

    static synchronized SparkSession session() {
        if (session == null) {
            session = SparkSession.builder()
                    .master("local[" + CORES + "]")
                    .appName("sef-onnx runtime-spark tests")
                    .config("spark.ui.enabled", "false")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.sql.shuffle.partitions", String.valueOf(CORES))
                    // several small files per partition, so that a job has more partitions than cores
                    .config("spark.sql.files.maxPartitionBytes", "64k")
                    .config("spark.sql.files.openCostInBytes", "8k")
                    .getOrCreate();
        }
        return session;
    }
}
