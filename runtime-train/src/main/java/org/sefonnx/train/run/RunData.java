package org.sefonnx.train.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.sefonnx.train.data.CheckedData;
import org.sefonnx.train.data.DataCheck;
import org.sefonnx.train.data.Dataset;
import org.sefonnx.train.data.Datasets;
import org.sefonnx.train.data.Layout;

/** The data set a run trains on: --data (its split sizes checked against the paper's) or the embedded demo, checked image by image. */
final class RunData {
    private final TrainOptions o;
    private final Protocol protocol;
    private final Console console;

    RunData(TrainOptions o, Protocol protocol, Console console) {
        this.o = o;
        this.protocol = protocol;
        this.console = console;
    }

    /** True when the run trains on the embedded demo, which is unpacked into the run folder (after the folder checks). */
    boolean isDemo() {
        return o.layout() == null;
    }

    /** The data set of --data, its split sizes checked against the paper's Table I. */
    Dataset openGiven() {
        Dataset data = Datasets.open(o.layout(), o.dataRoot());
        protocol.checkSplitCounts(o.layout(), data, console.warn());
        return data;
    }

    /** The embedded demo, unpacked into the run folder once. */
    static Dataset demo(RunDirectory run) throws IOException {
        Path demo = run.demoData();
        if (!Files.exists(demo.resolve(DemoData.FILES.get(0)))) DemoData.extract(demo);
        return Datasets.open(Layout.IDX, demo);
    }

    /** --data or the demo of {@code run}, checked. */
    CheckedData openChecked(RunDirectory run) throws IOException {
        return check(isDemo() ? demo(run) : openGiven());
    }

    /** The data set checked against the spec and image by image (DataCheck), with a progress line counting images. */
    CheckedData check(Dataset data) {
        Progress bar = console.progress("checking images", DataCheck.fileCount(data));
        int[] reported = {0};
        return DataCheck.check(
                data,
                o.spec().numClasses(),
                o.spec().id(),
                o.skipBadImages(),
                o.maxBadImages(),
                workers(o),
                console.warn(),
                done -> {
                    bar.update(done, done - reported[0], "");
                    reported[0] = done;
                });
    }

    /** Image decoding workers: --workers, or one per core. */
    static int workers(TrainOptions o) {
        return o.workers() > 0 ? o.workers() : Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    /** The class names a run records: the demo's IDX labels are digits, so it gets Fashion-MNIST's names (index order unchanged). */
    static List<String> classNames(TrainOptions o, Dataset data) {
        return o.layout() == null ? DemoData.CLASS_NAMES : data.classNames();
    }
}
