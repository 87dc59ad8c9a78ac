package org.sefonnx.train.data;

/** The on-disk layouts {@link Datasets#open} understands, each as its publisher distributes it. */
public enum Layout {
    /** CUB-200-2011: images.txt, image_class_labels.txt, train_test_split.txt, classes.txt. */
    CUB,
    /** Stanford Cars: car_ims/ + cars_annos.mat, or the devkit layout (cars_train/, cars_test/, devkit/). */
    CARS,
    /** Stanford Dogs: Images/ + train_list.mat / test_list.mat. */
    DOGS,
    /** FGVC-Aircraft 2013b: data/images_variant_{trainval,test}.txt and data/images/. */
    AIRCRAFT,
    /** root/{train,test}/&lt;class&gt;/&lt;image&gt;. */
    IMAGEFOLDER,
    /** MNIST-style IDX files: train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte(.gz), t10k-*. */
    IDX
}
