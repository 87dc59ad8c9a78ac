package org.sefonnx.train.data;

import java.util.List;
import java.util.Map;

/**
 * A data set after {@link DataCheck}: its splits without the images found bad (when skipping them), and why each of
 * those was bad, by source.
 */
public record CheckedData(Dataset dataset, List<Sample> train, List<Sample> test, Map<String, String> badImages) {
    public CheckedData {
        train = List.copyOf(train);
        test = List.copyOf(test);
        badImages = Map.copyOf(badImages);
    }
}
