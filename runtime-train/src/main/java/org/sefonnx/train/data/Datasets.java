package org.sefonnx.train.data;

import java.nio.file.Path;
import java.util.List;

/** Opens a data set in its official layout; every listed image is checked to exist before this returns. */
public final class Datasets {
    private Datasets() {}

    /**
     * Reads the index/annotation files of {@code layout} under {@code root}.
     *
     * @throws DatasetFormatException naming the index file and line when it does not match the files on disk
     */
    public static Dataset open(Layout layout, Path root) {
        Path absoluteRoot = root.toAbsolutePath().normalize();
        IndexFiles.requireDirectory(absoluteRoot, layout + " data set root");
        return switch (layout) {
            case CUB -> CubReader.read(absoluteRoot);
            case CARS -> CarsReader.read(absoluteRoot);
            case DOGS -> DogsReader.read(absoluteRoot);
            case AIRCRAFT -> AircraftReader.read(absoluteRoot);
            case IMAGEFOLDER -> ImageFolderReader.read(absoluteRoot);
            case IDX -> IdxReader.read(absoluteRoot);
        };
    }

    /**
     * The publisher's own validation list of {@code data} (read from {@code root} by {@link #open}): only FGVC-Aircraft
     * has one (images_variant_val.txt, part of trainval).
     */
    public static List<Sample> officialValidation(Layout layout, Path root, Dataset data) {
        if (layout != Layout.AIRCRAFT) {
            throw new IllegalArgumentException(
                    "--val-split official: only the aircraft layout has an official validation list "
                            + "(images_variant_val.txt); "
                            + (layout == null
                                    ? "the embedded demo"
                                    : "--layout " + layout.name().toLowerCase(java.util.Locale.ROOT))
                            + " has none, use --val-fraction F");
        }
        return AircraftReader.officialValidation(root.toAbsolutePath().normalize(), data);
    }
}
