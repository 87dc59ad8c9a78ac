package org.sefonnx.imaging;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Properties;
import org.sefonnx.contract.ExportLayout;

/**
 * The evaluation transform of an exported model, as {@code preprocessing.properties} of the export directory
 * stores it: PIL bilinear (antialiased) resize to {@code resizeWidth x resizeHeight} ignoring the aspect ratio,
 * centre crop to {@code cropWidth x cropHeight} (equal to the resize when there is no crop), then
 * {@code (v / 255 - mean) / std} per channel, written NCHW into the model input {@value ExportLayout#MODEL_INPUT}.
 *
 * @param modelId              the model the transform belongs to; empty until {@link #withModel}
 * @param numClasses           K of that model; 0 until {@link #withModel}
 * @param applyExifOrientation turn JPEGs upright by their EXIF orientation before the resize (training did the same);
 *                             false, the default, as torchvision's default loader
 */
public record PreprocessingSpec(
        int resizeWidth,
        int resizeHeight,
        int cropWidth,
        int cropHeight,
        float[] mean,
        float[] std,
        String modelId,
        int numClasses,
        boolean applyExifOrientation) {

    /** The resampling filter {@link PilResize} implements (Pillow's Image.BILINEAR, antialiased when downscaling). */
    public static final String INTERPOLATION = "pil-bilinear-antialias";
    /** The layout of the model's input tensor: batch, channel, height, width. */
    public static final String LAYOUT = "NCHW";
    /** The model outputs a prediction reads, as {@value #KEY_OUTPUTS} lists them. */
    private static final String OUTPUTS = String.join(",", ExportLayout.PREDICTION_OUTPUTS);
    /** torchvision's ImageNet statistics, the ones the pretrained ResNet weights expect (package-private: arrays are mutable). */
    static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};
    /** torchvision's ImageNet standard deviations, R, G, B. */
    static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};

    static final String KEY_RESIZE_WIDTH = "resize.width";
    static final String KEY_RESIZE_HEIGHT = "resize.height";
    static final String KEY_CROP_WIDTH = "crop.width";
    static final String KEY_CROP_HEIGHT = "crop.height";
    static final String KEY_MEAN = "mean";
    static final String KEY_STD = "std";
    static final String KEY_INTERPOLATION = "interpolation";
    static final String KEY_INPUT = "input";
    static final String KEY_OUTPUTS = "outputs";
    static final String KEY_LAYOUT = "layout";
    static final String KEY_MODEL_ID = "modelId";
    static final String KEY_NUM_CLASSES = "numClasses";
    /**
     * EXIF orientation policy: {@value #EXIF_ORIENTATION_IGNORE} (torchvision's default PIL loader does not apply the
     * tag) or {@value #EXIF_ORIENTATION_APPLY} (Pillow's exif_transpose), so serving decodes as training did.
     */
    static final String KEY_EXIF_ORIENTATION = "exif.orientation";
    /** JPEGs decoded as stored, their EXIF orientation tag ignored (torchvision's default loader). */
    public static final String EXIF_ORIENTATION_IGNORE = "ignore";
    /** JPEGs turned upright by their EXIF orientation tag (Pillow's exif_transpose). */
    public static final String EXIF_ORIENTATION_APPLY = "apply";
    /** Every key {@link #read} accepts; anything else is refused (a misspelt key must not be silently ignored). */
    static final java.util.Set<String> KEYS = java.util.Set.of(
            KEY_MODEL_ID,
            KEY_NUM_CLASSES,
            KEY_RESIZE_WIDTH,
            KEY_RESIZE_HEIGHT,
            KEY_CROP_WIDTH,
            KEY_CROP_HEIGHT,
            KEY_MEAN,
            KEY_STD,
            KEY_INTERPOLATION,
            KEY_INPUT,
            KEY_OUTPUTS,
            KEY_LAYOUT,
            KEY_EXIF_ORIENTATION);

    public PreprocessingSpec {
        if (resizeWidth <= 0 || resizeHeight <= 0 || cropWidth <= 0 || cropHeight <= 0) {
            throw new IllegalArgumentException("preprocessing sizes must be positive: resize " + resizeWidth + "x"
                    + resizeHeight + ", crop " + cropWidth + "x" + cropHeight);
        }
        if (cropWidth > resizeWidth || cropHeight > resizeHeight) {
            throw new IllegalArgumentException("crop " + cropWidth + "x" + cropHeight + " is larger than resize "
                    + resizeWidth + "x" + resizeHeight);
        }
        if (mean.length != 3 || std.length != 3) {
            throw new IllegalArgumentException(
                    "mean and std need 3 values (R,G,B), got " + mean.length + " and " + std.length);
        }
        for (float s : std) {
            if (!(s > 0)) {
                throw new IllegalArgumentException("std values must be positive, got " + Arrays.toString(std));
            }
        }
        mean = mean.clone();
        std = std.clone();
        modelId = modelId == null ? "" : modelId;
        if (numClasses < 0) {
            throw new IllegalArgumentException("numClasses must be >= 0, got " + numClasses);
        }
    }

    /** A spec that ignores the EXIF orientation, as torchvision's default loader. */
    public PreprocessingSpec(
            int resizeWidth,
            int resizeHeight,
            int cropWidth,
            int cropHeight,
            float[] mean,
            float[] std,
            String modelId,
            int numClasses) {
        this(resizeWidth, resizeHeight, cropWidth, cropHeight, mean, std, modelId, numClasses, false);
    }

    /** Resize then centre crop, ImageNet statistics, no model attached yet. */
    public static PreprocessingSpec resizeAndCenterCrop(
            int resizeWidth, int resizeHeight, int cropWidth, int cropHeight) {
        return new PreprocessingSpec(
                resizeWidth, resizeHeight, cropWidth, cropHeight, IMAGENET_MEAN, IMAGENET_STD, "", 0);
    }

    /** Square resize without a crop, ImageNet statistics. */
    public static PreprocessingSpec resize(int size) {
        return resizeAndCenterCrop(size, size, size, size);
    }

    /** The same transform labelled with the model it feeds (required by {@link #write}). */
    public PreprocessingSpec withModel(String id, int classes) {
        return new PreprocessingSpec(
                resizeWidth, resizeHeight, cropWidth, cropHeight, mean, std, id, classes, applyExifOrientation);
    }

    /** The same transform with the EXIF orientation applied ({@code true}) or ignored. */
    public PreprocessingSpec withExifOrientation(boolean apply) {
        return new PreprocessingSpec(
                resizeWidth, resizeHeight, cropWidth, cropHeight, mean, std, modelId, numClasses, apply);
    }

    @Override
    public float[] mean() {
        return mean.clone();
    }

    @Override
    public float[] std() {
        return std.clone();
    }

    /** Floats one preprocessed image takes: 3 * cropHeight * cropWidth. */
    public int floatsPerImage() {
        return 3 * cropWidth * cropHeight;
    }

    /** Left edge of the crop in the resized image: torchvision CenterCrop, round((w - tw) / 2) half-even. */
    public int cropLeft() {
        return (int) Math.rint((resizeWidth - cropWidth) / 2.0);
    }

    /** Top edge of the crop in the resized image. */
    public int cropTop() {
        return (int) Math.rint((resizeHeight - cropHeight) / 2.0);
    }

    /**
     * The text of {@value ExportLayout#PREPROCESSING}; the trainer writes it with its atomic-write helper (this module writes no files,
     * runtime-infer only reads them).
     */
    public String toText() {
        if (modelId.isEmpty() || numClasses < 1) {
            throw new IllegalStateException(ExportLayout.PREPROCESSING
                    + " needs modelId and numClasses; call withModel(id, classes)" + " first");
        }
        StringBuilder text = new StringBuilder();
        text.append("# sef-onnx evaluation preprocessing of model ")
                .append(modelId)
                .append('\n');
        line(text, KEY_MODEL_ID, modelId);
        line(text, KEY_NUM_CLASSES, Integer.toString(numClasses));
        line(text, KEY_RESIZE_WIDTH, Integer.toString(resizeWidth));
        line(text, KEY_RESIZE_HEIGHT, Integer.toString(resizeHeight));
        line(text, KEY_CROP_WIDTH, Integer.toString(cropWidth));
        line(text, KEY_CROP_HEIGHT, Integer.toString(cropHeight));
        line(text, KEY_MEAN, join(mean));
        line(text, KEY_STD, join(std));
        line(text, KEY_INTERPOLATION, INTERPOLATION);
        line(text, KEY_INPUT, ExportLayout.MODEL_INPUT);
        line(text, KEY_OUTPUTS, OUTPUTS);
        line(text, KEY_LAYOUT, LAYOUT);
        line(text, KEY_EXIF_ORIENTATION, applyExifOrientation ? EXIF_ORIENTATION_APPLY : EXIF_ORIENTATION_IGNORE);
        return text.toString();
    }

    /** Reads a file {@link #write} produced; a missing or malformed key fails naming the file, the key and the expected form. */
    public static PreprocessingSpec read(Path file) throws IOException {
        String text;
        try {
            text = StandardCharsets.UTF_8
                    .newDecoder()
                    .decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file)))
                    .toString();
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(
                    file.toString(), null, "preprocessing file is missing from the export directory");
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new IllegalArgumentException(file + ": is not UTF-8 text; expected the key=value lines `sef-onnx"
                    + " export` writes (" + KEY_MODEL_ID + ", " + KEY_RESIZE_WIDTH + ", ...): write the export again"
                    + " with `sef-onnx export --run DIR`");
        }
        // a byte-order mark, as an editor on Windows saves UTF-8, is not part of the first key (LabelFile accepts one
        // too)
        if (text.startsWith("\uFEFF")) text = text.substring(1);
        Properties p = new Properties();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (String raw : text.split("\r?\n")) {
            // one key=value a line (what toText writes); Properties.load alone would let a repeated key silently win
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#") || line.startsWith("!")) continue;
            Properties one = new Properties();
            try (Reader in = new java.io.StringReader(line)) {
                one.load(in);
            }
            for (String key : one.stringPropertyNames()) {
                if (!KEYS.contains(key)) {
                    throw new IllegalArgumentException(file + ": key '" + key
                            + "' is not supported; this runtime reads only " + new java.util.TreeSet<>(KEYS));
                }
                if (!seen.add(key))
                    throw new IllegalArgumentException(file + ": key '" + key + "' appears twice; keep one");
                p.setProperty(key, one.getProperty(key));
            }
        }
        String exif =
                p.getProperty(KEY_EXIF_ORIENTATION, EXIF_ORIENTATION_IGNORE).strip();
        if (!exif.equals(EXIF_ORIENTATION_IGNORE) && !exif.equals(EXIF_ORIENTATION_APPLY)) {
            throw new IllegalArgumentException(file + ": key '" + KEY_EXIF_ORIENTATION + "' is '" + exif
                    + "', expected " + EXIF_ORIENTATION_IGNORE + " or " + EXIF_ORIENTATION_APPLY);
        }
        expect(p, file, KEY_INTERPOLATION, INTERPOLATION);
        expect(p, file, KEY_LAYOUT, LAYOUT);
        expect(p, file, KEY_INPUT, ExportLayout.MODEL_INPUT);
        expect(p, file, KEY_OUTPUTS, OUTPUTS);
        String id = required(p, file, KEY_MODEL_ID, "a model id");
        try {
            return new PreprocessingSpec(
                    positiveInt(p, file, KEY_RESIZE_WIDTH),
                    positiveInt(p, file, KEY_RESIZE_HEIGHT),
                    positiveInt(p, file, KEY_CROP_WIDTH),
                    positiveInt(p, file, KEY_CROP_HEIGHT),
                    floats(p, file, KEY_MEAN),
                    floats(p, file, KEY_STD),
                    id,
                    positiveInt(p, file, KEY_NUM_CLASSES),
                    exif.equals(EXIF_ORIENTATION_APPLY));
        } catch (IllegalArgumentException e) {
            if (e.getMessage().startsWith(file.toString())) throw e;
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    private static void line(StringBuilder text, String key, String value) {
        text.append(key).append('=').append(value).append('\n');
    }

    private static String join(float[] values) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < values.length; i++) s.append(i == 0 ? "" : ",").append(values[i]);
        return s.toString();
    }

    private static String required(Properties p, Path file, String key, String expected) {
        String v = p.getProperty(key);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException(file + ": key '" + key + "' is missing, expected " + expected);
        }
        return v.strip();
    }

    private static void expect(Properties p, Path file, String key, String supported) {
        String v = required(p, file, key, "'" + supported + "'");
        if (!v.equals(supported)) {
            throw new IllegalArgumentException(
                    file + ": key '" + key + "' is '" + v + "', this runtime supports only '" + supported + "'");
        }
    }

    private static int positiveInt(Properties p, Path file, String key) {
        String v = required(p, file, key, "a positive integer");
        try {
            int n = Integer.parseInt(v);
            if (n > 0) return n;
        } catch (NumberFormatException e) {
            // reported below with the expected form
        }
        throw new IllegalArgumentException(file + ": key '" + key + "' is '" + v + "', expected a positive integer");
    }

    private static float[] floats(Properties p, Path file, String key) {
        String v = required(p, file, key, "three comma-separated numbers (R,G,B)");
        String[] parts = v.split(",");
        float[] r = new float[parts.length];
        try {
            for (int i = 0; i < parts.length; i++) r[i] = Float.parseFloat(parts[i].strip());
        } catch (NumberFormatException e) {
            r = new float[0];
        }
        if (r.length != 3) {
            throw new IllegalArgumentException(
                    file + ": key '" + key + "' is '" + v + "', expected three comma-separated numbers (R,G,B)");
        }
        for (float f : r) {
            // pixels are scaled to 0..1 before (v - mean) / std: 0..255-scale statistics give confident garbage
            boolean ok = key.equals(KEY_MEAN) ? f >= 0 && f <= 1 : f > 0 && f <= 1;
            if (!ok) {
                throw new IllegalArgumentException(
                        file + ": key '" + key + "' is '" + v + "', expected three finite numbers in "
                                + (key.equals(KEY_MEAN) ? "[0, 1]" : "(0, 1]")
                                + " (statistics of pixels scaled to 0..1, e.g. ImageNet's "
                                + join(key.equals(KEY_MEAN) ? IMAGENET_MEAN : IMAGENET_STD) + ")");
            }
        }
        return r;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PreprocessingSpec s
                && s.resizeWidth == resizeWidth
                && s.resizeHeight == resizeHeight
                && s.cropWidth == cropWidth
                && s.cropHeight == cropHeight
                && Arrays.equals(s.mean, mean)
                && Arrays.equals(s.std, std)
                && s.modelId.equals(modelId)
                && s.numClasses == numClasses
                && s.applyExifOrientation == applyExifOrientation;
    }

    @Override
    public int hashCode() {
        return ((resizeWidth * 31 + resizeHeight) * 31 + cropWidth) * 31
                + cropHeight
                + 17 * Arrays.hashCode(mean)
                + modelId.hashCode();
    }

    @Override
    public String toString() {
        return String.format(
                        Locale.ROOT,
                        "resize %dx%d, centre crop %dx%d, mean %s, std %s%s",
                        resizeWidth,
                        resizeHeight,
                        cropWidth,
                        cropHeight,
                        Arrays.toString(mean),
                        Arrays.toString(std),
                        modelId.isEmpty() ? "" : " (model " + modelId + ", " + numClasses + " classes)")
                + (applyExifOrientation ? ", EXIF orientation applied" : "");
    }
}
