package org.sefonnx.train.run.state;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.sefonnx.contract.AtomicFiles;
import org.sefonnx.train.data.Sample;
import org.sefonnx.train.run.options.Protocol;

/**
 * A run's {@value ValidationSplit#FILE}: the validation images it holds out, one {@code <class index> TAB <image>} line
 * each under a header naming the protocol. Written when the run starts, so the split can be inspected; on resume the
 * data set must give the same list.
 */
public final class ValidationList {
    private ValidationList() {}

    public static void write(RunDirectory run, Protocol protocol, List<Sample> validation) throws IOException {
        AtomicFiles.writeString(run.validationList(), render(protocol, validation));
    }

    /** Refuses a resume whose data set no longer gives the split the run started with (the file is the record). */
    public static void requireSameAsFile(RunDirectory run, Protocol protocol, List<Sample> validation)
            throws IOException {
        Path file = run.validationList();
        if (!protocol.hasValidation()) return;
        if (!Files.isRegularFile(file))
            throw new InvalidRunException(file + " is missing: the run was started with " + protocol.describe()
                    + ", and its validation list is what a resume must keep; restore the file or start a new run");
        // the header's words may change between versions; the list is the record
        List<String> expected = listed(render(protocol, validation)), found = listed(Files.readString(file));
        for (int i = 0; i < Math.max(expected.size(), found.size()); i++) {
            String e = i < expected.size() ? expected.get(i) : "(end of list)",
                    f = i < found.size() ? found.get(i) : "(end of list)";
            if (!e.equals(f)) {
                throw new InvalidRunException(
                        file + " line " + (i + 1) + " is '" + f + "' but the data set now gives '" + e
                                + "': the training split changed since the run started, so its validation split would too; restore the data set or start a new run");
            }
        }
    }

    private static List<String> listed(String text) {
        return text.lines().filter(l -> !l.startsWith("#")).toList();
    }

    private static String render(Protocol protocol, List<Sample> validation) {
        StringBuilder sb = new StringBuilder("# sef-onnx validation split: ")
                .append(validation.size())
                .append(" images held out of the training split; ")
                .append(protocol.describe())
                .append('\n');
        for (Sample s : validation)
            sb.append(s.classIndex()).append('\t').append(s.source().describe()).append('\n');
        return sb.toString();
    }
}
