package org.sefonnx.train.run.loop;

import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.sefonnx.train.data.Dataset;
import org.sefonnx.train.data.Datasets;
import org.sefonnx.train.data.DemoData;
import org.sefonnx.train.data.LoaderOptions;
import org.sefonnx.train.data.Sample;
import org.sefonnx.train.data.TransformSpec;
import org.sefonnx.train.run.options.Protocol;
import org.sefonnx.train.run.options.TrainOptions;
import org.sefonnx.train.run.state.RunDirectory;
import org.sefonnx.train.run.state.RunProperties;

/**
 * The images of a run as it trained on them, for what is derived from a finished run (the int8 export's calibration
 * and accuracy gate): the training split less the validation hold-out, the split that selects the best epoch (test, or
 * validation under --select-on val) and how the run's evaluation reads them (transform, EXIF rule, batch size,
 * workers, bad-image policy).
 *
 * @param train          the training images the run learned from (the validation hold-out taken out)
 * @param selecting      the images of the selecting split
 * @param selectingSplit "test" or "validation"
 * @param evalTransform  the evaluation transform (the export's preprocessing)
 * @param loader         evaluation loading as the run's options say
 * @param classNames     class names in index order
 * @param seed           the run's seed
 * @param threads        the run's ORT intra-op threads (0: one per core)
 */
public record RunSplits(
        List<Sample> train,
        List<Sample> selecting,
        String selectingSplit,
        TransformSpec evalTransform,
        LoaderOptions loader,
        List<String> classNames,
        long seed,
        int threads) {
    public RunSplits {
        train = List.copyOf(train);
        selecting = List.copyOf(selecting);
        classNames = List.copyOf(classNames);
    }

    /** The splits of the run in {@code run}, read from its run.properties and its data set (the demo's unpacked copy). */
    public static RunSplits of(RunDirectory run) throws IOException {
        RunProperties saved = RunProperties.read(run);
        TrainOptions o = saved.options();
        Protocol protocol = saved.protocol();
        Dataset data = o.data().isDemo()
                ? DemoData.open(run.demoData())
                : Datasets.open(o.data().layout(), o.data().root());
        List<Sample> validation = protocol.validation(o, data);
        Set<String> held = validation.stream().map(s -> s.source().describe()).collect(Collectors.toSet());
        List<Sample> train = data.train().stream()
                .filter(s -> !held.contains(s.source().describe()))
                .toList();
        boolean onValidation = protocol.selectOn() == Protocol.SelectOn.VAL;
        LoaderOptions loader = LoaderOptions.evaluation(o.schedule().batchSize())
                .withWorkers(o.compute().decodeWorkers())
                .withSkipBadImages(o.badImages().skip())
                .withMaxBadImages(o.badImages().max())
                .withExifOrientation(o.data().applyExifOrientation());
        return new RunSplits(
                train,
                onValidation ? validation : data.test(),
                onValidation ? "validation" : "test",
                o.transform(false),
                loader,
                o.data().classNames(data),
                o.seed(),
                o.compute().threads());
    }
}
