package org.sefonnx.train.data;

import java.util.List;

/** A labelled image data set with its official train/test split. */
public interface Dataset {

    /** Training split in index-file order. */
    List<Sample> train();

    /** Test (evaluation) split in index-file order. */
    List<Sample> test();

    /** Class names; index i is class index i, sorted as Python's sorted() sorts them (ImageFolder convention). */
    List<String> classNames();

    /** Which layout was read, and from where. */
    String description();

    default int classCount() {
        return classNames().size();
    }
}
