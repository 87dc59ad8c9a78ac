package org.sefonnx.train.data;

import java.util.List;

/** A data set fully listed in memory, as every reader produces. */
record LoadedDataset(String description, List<Sample> train, List<Sample> test, List<String> classNames)
        implements Dataset {
    LoadedDataset {
        train = List.copyOf(train);
        test = List.copyOf(test);
        classNames = List.copyOf(classNames);
    }
}
