package org.sefonnx.train.run.loop;

import java.io.IOException;
import org.sefonnx.train.data.CheckedData;
import org.sefonnx.train.data.DataCheck;
import org.sefonnx.train.data.Dataset;
import org.sefonnx.train.data.Datasets;
import org.sefonnx.train.data.DemoData;
import org.sefonnx.train.run.options.Protocol;
import org.sefonnx.train.run.options.TrainOptions;
import org.sefonnx.train.run.report.Console;
import org.sefonnx.train.run.report.Progress;
import org.sefonnx.train.run.state.RunDirectory;

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

    /** The data set of --data, its split sizes checked against the paper's Table I. */
    Dataset openGiven() {
        Dataset data = Datasets.open(o.data().layout(), o.data().root());
        protocol.checkSplitCounts(o.data().layout(), data, console.warn());
        return data;
    }

    /** --data or the demo of {@code run} (unpacked into the run folder once, after the folder checks), checked. */
    CheckedData openChecked(RunDirectory run) throws IOException {
        return check(o.data().isDemo() ? DemoData.open(run.demoData()) : openGiven());
    }

    /** The data set checked against the spec and image by image (DataCheck), with a progress line counting images. */
    CheckedData check(Dataset data) {
        Progress bar = console.progress("checking images", DataCheck.fileCount(data));
        int[] reported = {0};
        return DataCheck.check(
                data,
                o.spec().numClasses(),
                o.spec().id(),
                o.badImages().skip(),
                o.badImages().max(),
                o.compute().decodeWorkers(),
                console.warn(),
                done -> {
                    bar.update(done, done - reported[0], "");
                    reported[0] = done;
                });
    }
}
