package org.sefonnx.train.run.loop;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.sefonnx.contract.ModelDescriptor;
import org.sefonnx.contract.Precision;
import org.sefonnx.generator.artifacts.Checkpoint;
import org.sefonnx.generator.artifacts.CheckpointReader;
import org.sefonnx.generator.artifacts.CheckpointWriter;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.generator.weights.PretrainedImport;
import org.sefonnx.train.data.CheckedData;
import org.sefonnx.train.data.DemoData;
import org.sefonnx.train.data.Sample;
import org.sefonnx.train.data.ValidationSplit;
import org.sefonnx.train.run.options.Protocol;
import org.sefonnx.train.run.options.TrainOptions;
import org.sefonnx.train.run.report.Console;
import org.sefonnx.train.run.session.ModelArtifacts;
import org.sefonnx.train.run.session.Sessions;
import org.sefonnx.train.run.session.SpecDescriptor;
import org.sefonnx.train.run.state.RunDirectory;
import org.sefonnx.train.run.state.RunProperties;
import org.sefonnx.train.run.state.RunState;
import org.sefonnx.train.run.state.StartChecks;
import org.sefonnx.train.run.state.UnfinishedStart;
import org.sefonnx.train.run.state.ValidationList;

/**
 * What a run is before its epoch loop: a new run folder written (artifacts, initial checkpoint, run.properties, the
 * first run state) after everything that can be refused was checked, or a committed run read back and verified for
 * --resume. Either way the result is a {@link Prepared} run the {@link EpochLoop} continues.
 */
final class RunSetup {
    private RunSetup() {}

    /** A run ready for its epoch loop: its folder, options, protocol, graphs, committed state, checked data and validation split. */
    record Prepared(
            RunDirectory dir,
            TrainOptions options,
            Protocol protocol,
            ModelDescriptor descriptor,
            RunState state,
            CheckedData data,
            List<Sample> validation) {}

    /** A new run that passed every check before its first file; {@link #write} creates it, {@link #removeFailedStart} undoes that. */
    static final class NewRun {
        private final RunDirectory run;
        private final TrainOptions o;
        private final Protocol protocol;
        private final Console console;
        private final RunData data;
        private final CheckedData given;
        private final Checkpoint initial;
        private final boolean folderExisted;
        /** --out holds a start killed before its first state: its files are removed and the start begun again. */
        private final boolean restart;

        /**
         * The checks before anything is written: the folder, the data set and every image header (the demo is checked
         * once unpacked), --pretrained, the device.
         */
        NewRun(TrainOptions o, Protocol protocol, Console console) throws IOException {
            this.run = new RunDirectory(o.outDir());
            this.o = o;
            this.protocol = protocol;
            this.console = console;
            this.data = new RunData(o, protocol, console);
            this.restart = StartChecks.requireNewRunFolder(run);
            this.given = o.data().isDemo() ? null : data.check(data.openGiven());
            this.initial = InitialCheckpoints.create(o.spec(), o.seed(), o.pretrained(), console.log());
            Sessions.requireDevice(o.compute().device());
            this.folderExisted = Files.exists(o.outDir());
        }

        /**
         * Writes the run folder up to its first committed state: the unfinished-start marker first, removed once the
         * state is committed, so a kill in between leaves a folder the same command begins again.
         */
        Prepared write() throws IOException {
            if (restart) {
                console.log()
                        .println("train: " + run.root() + " holds a start that was stopped before its first epoch"
                                + " (no " + run.root().relativize(run.state()) + "); starting it again");
                UnfinishedStart.clear(run);
            }
            UnfinishedStart.mark(run);
            Files.createDirectories(run.artifacts());
            CheckedData checked = given != null ? given : data.check(DemoData.open(run.demoData()));
            List<Sample> validation = protocol.validation(o, checked.dataset());
            if (protocol.hasValidation()) ValidationList.write(run, protocol, validation);
            ModelDescriptor d = SpecDescriptor.of(o.spec());
            console.log()
                    .println("model: " + describe(o.spec()) + "; "
                            + ModelArtifacts.materialize(o.spec(), d, run.artifacts()));
            Path initialFile = run.initialCheckpoint();
            CheckpointWriter.write(initial, initialFile);
            new RunProperties(o, protocol, initial.stringProperties().get(PretrainedImport.PROP_PRETRAINED_SHA256))
                    .write(run);
            RunState state = RunState.initial(run, initialFile);
            state.commit(run);
            UnfinishedStart.unmark(run);
            return new Prepared(run, o, protocol, d, state, checked, validation);
        }

        /** Removes what {@link #write} and a loop that never opened its session wrote; {@code cause} keeps a cleanup failure. */
        void removeFailedStart(Throwable cause) {
            StartChecks.removeFailedStart(run, folderExisted, cause);
        }
    }

    /**
     * The committed run in {@code runDir}, to continue: its state (rolled back to the best epoch with {@code fromBest}),
     * its own options and protocol (refusing another {@code requested} one), {@code epochs} if given (never fewer than
     * done), its checkpoints verified and its spec, data set and validation split the same as when it started.
     */
    static Prepared resume(Path runDir, Integer epochs, boolean fromBest, Protocol requested, Console console)
            throws IOException {
        RunDirectory run = new RunDirectory(runDir);
        RunState state = RunState.read(run);
        if (fromBest) state = state.rolledBackToBest();
        RunProperties saved = RunProperties.read(run);
        Protocol protocol = saved.protocol();
        protocol.requireSame(requested, runDir);
        if (epochs != null && epochs < state.epochsCompleted()) {
            throw new IllegalArgumentException("--epochs " + epochs + " is fewer than the " + state.epochsCompleted()
                    + " epochs " + runDir + " has completed; give at least " + state.epochsCompleted());
        }
        TrainOptions o = epochs == null ? saved.options() : saved.options().withEpochs(epochs);
        Path start = state.verified(run, "last");
        if (state.best() != null) state.verified(run, "best");
        RunProperties.requireSameSpec(o.spec(), CheckpointReader.readHeader(start), start);
        CheckedData data = new RunData(o, protocol, console).openChecked(run);
        List<Sample> validation = protocol.validation(o, data.dataset());
        ValidationList.requireSameAsFile(run, protocol, validation);
        List<Sample> selecting = protocol.selecting(data.test(), ValidationSplit.checked(data, validation));
        state.requireFitsSplit(run, imagesPerClass(selecting, o.spec().numClasses()), protocol.selectingSplitName());
        if (fromBest) state.commit(run);
        console.log()
                .println("resuming " + runDir + " after epoch " + state.epochsCompleted() + " (global step "
                        + state.globalStep() + ")");
        new RunProperties(o, protocol, saved.pretrainedSha256()).write(run);
        return new Prepared(run, o, protocol, SpecDescriptor.of(o.spec()), state, data, validation);
    }

    private static int[] imagesPerClass(List<Sample> samples, int classes) {
        int[] n = new int[classes];
        for (Sample s : samples) if (s.classIndex() < classes) n[s.classIndex()]++;
        return n;
    }

    static String describe(ModelSpec s) {
        return String.format(
                Locale.ROOT,
                "%s (ResNet-%d, K=%d, G=%d, %d px, λ=%s γ=%s φ=%s, %s%s)",
                s.id(),
                s.depth(),
                s.numClasses(),
                s.groups(),
                s.imageSize(),
                s.lambda(),
                s.gamma(),
                s.phi(),
                s.optimizer().name().toLowerCase(Locale.ROOT).replace('_', '-'),
                s.precision() == Precision.FP32 ? "" : ", " + s.precision().label() + " mixed precision");
    }
}
