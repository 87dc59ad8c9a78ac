package org.sefonnx.train.run;

import java.io.IOException;
import java.io.PrintStream;
import java.util.List;
import org.sefonnx.contract.ModelDescriptor;
import org.sefonnx.train.explain.RunReport;

/** The listeners of a run's end that derive whole files from the finished run: the inference export and report.html. */
final class RunEndFiles {
    private RunEndFiles() {}

    /** export/: the best checkpoint for runtime-infer (Exporter), verified again before it is read. */
    static TrainingListener export(
            RunDirectory run, ModelDescriptor d, TrainOptions o, List<String> classNames, PrintStream log) {
        return new TrainingListener() {
            @Override
            public String endStep() {
                return RunCommits.EXPORT;
            }

            @Override
            public void runFinished(RunEnd end) throws IOException {
                Exporter.export(end.ort(), d, run, o, end.state().verified(run, "best"), classNames, log);
            }
        };
    }

    /** report.html and its explain pass (explain/), after the training session is closed: it opens its own. */
    static TrainingListener report(RunDirectory run, PrintStream log) {
        return new TrainingListener() {
            @Override
            public void runClosed(RunState state) throws IOException {
                RunReport.writeForRun(run, log);
            }
        };
    }
}
