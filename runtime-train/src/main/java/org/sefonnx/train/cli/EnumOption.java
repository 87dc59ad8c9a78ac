package org.sefonnx.train.cli;

import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import org.sefonnx.contract.Precision;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.train.data.Layout;
import org.sefonnx.train.ort.OrtAdapter;
import org.sefonnx.train.run.options.Protocol;
import org.sefonnx.train.run.options.TrainOptions;
import picocli.CommandLine;

/**
 * An option whose values are an enum's constants, spelled as the spec files and run.properties spell them: lower case,
 * '-' for '_' ({@code sgd-momentum}). Picocli converts a value through it (any case) and lists its words as the
 * option's completion candidates ({@code ${COMPLETION-CANDIDATES}} in a description); any other value is refused
 * naming them. One subclass per enum below, since picocli takes a class for each.
 */
abstract class EnumOption<E extends Enum<E>> implements CommandLine.ITypeConverter<E>, Iterable<String> {
    private final List<E> values;

    @SafeVarargs
    EnumOption(E... values) {
        this.values = List.of(values);
    }

    /** The word of {@code value}: its name in lower case, '-' for '_'. */
    static String word(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    @Override
    public E convert(String text) {
        String asked = text.strip().toLowerCase(Locale.ROOT).replace('_', '-');
        for (E v : values) if (word(v).equals(asked)) return v;
        throw new CommandLine.TypeConversionException(
                "must be one of " + String.join(", ", this) + "; got '" + text + "'");
    }

    @Override
    public Iterator<String> iterator() {
        return values.stream().map(EnumOption::word).iterator();
    }

    static final class Layouts extends EnumOption<Layout> {
        Layouts() {
            super(Layout.values());
        }
    }

    static final class Devices extends EnumOption<TrainOptions.Device> {
        Devices() {
            super(TrainOptions.Device.values());
        }
    }

    static final class ConvAlgorithmSearches extends EnumOption<OrtAdapter.CudaOptions.ConvAlgorithmSearch> {
        ConvAlgorithmSearches() {
            super(OrtAdapter.CudaOptions.ConvAlgorithmSearch.values());
        }
    }

    static final class Precisions extends EnumOption<Precision> {
        Precisions() {
            super(Precision.values());
        }
    }

    static final class GroupingLosses extends EnumOption<ModelSpec.GroupingLossForm> {
        GroupingLosses() {
            super(ModelSpec.GroupingLossForm.values());
        }
    }

    static final class Optimizers extends EnumOption<ModelSpec.Optimizer> {
        Optimizers() {
            super(ModelSpec.Optimizer.values());
        }
    }

    /** The validation splits one can ask for: no split is asked for by giving none. */
    static final class ValSplits extends EnumOption<Protocol.ValSplit> {
        ValSplits() {
            super(Arrays.stream(Protocol.ValSplit.values())
                    .filter(v -> v != Protocol.ValSplit.NONE)
                    .toArray(Protocol.ValSplit[]::new));
        }
    }

    /** In the order the help names them: the authors' choice first. */
    static final class SelectOns extends EnumOption<Protocol.SelectOn> {
        SelectOns() {
            super(Protocol.SelectOn.VAL, Protocol.SelectOn.TEST);
        }
    }
}
