package org.sefonnx.train.data;

import java.nio.file.Path;

/** Opens a data set in its official layout; every listed image is checked to exist before this returns. */
public final class Datasets {
    private Datasets() {
    }

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
}
