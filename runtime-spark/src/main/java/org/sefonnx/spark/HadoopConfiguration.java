package org.sefonnx.spark;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;

/**
 * The driver's Hadoop configuration for the executors (Configuration is Writable, not Serializable), so that a path
 * column is read with the same file systems and credentials as Spark's own {@code binaryFile} source would use.
 */
final class HadoopConfiguration implements Serializable {
    private static final long serialVersionUID = 1L;

    private transient Configuration configuration;

    private HadoopConfiguration(Configuration configuration) {
        this.configuration = configuration;
    }

    static Broadcast<HadoopConfiguration> broadcast(SparkSession spark) {
        return spark.sparkContext()
                .broadcast(
                        new HadoopConfiguration(spark.sparkContext().hadoopConfiguration()),
                        scala.reflect.ClassTag$.MODULE$.apply(HadoopConfiguration.class));
    }

    Configuration get() {
        return configuration;
    }

    private void writeObject(ObjectOutputStream out) throws IOException {
        configuration.write(out);
    }

    private void readObject(ObjectInputStream in) throws IOException {
        configuration = new Configuration(false);
        configuration.readFields(in);
    }
}
