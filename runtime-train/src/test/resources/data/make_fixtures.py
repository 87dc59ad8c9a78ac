"""Writes the image and index fixtures of the data-package tests (run once with Debian's python3-pil; the
MAT files come from make_mat_fixtures.m with GNU Octave). Tests never run this script; its outputs are committed.

    cd runtime-train/src/test/resources/data && /usr/bin/python3 make_fixtures.py && octave --no-gui make_mat_fixtures.m
"""
import gzip
import os
import random
import struct

from PIL import Image

random.seed(20240601)


def gradient(w, h, seed):
    rnd = random.Random(seed)
    img = Image.new("RGB", (w, h))
    px = img.load()
    a, b, c = rnd.randint(0, 255), rnd.randint(0, 255), rnd.randint(0, 255)
    for y in range(h):
        for x in range(w):
            px[x, y] = ((a + 5 * x + rnd.randint(0, 20)) % 256, (b + 7 * y) % 256, (c + 3 * x + 4 * y) % 256)
    return img


def save_jpeg(path, img):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    img.save(path, "JPEG", quality=90)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="\n") as f:
        f.write(text)


# --- CUB-200-2011: 3 classes, 7 images (one grayscale, one CMYK), ids deliberately not in class order
cub = "cub/CUB_200_2011"
classes = ["001.Black_footed_Albatross", "002.Laysan_Albatross", "010.Red_winged_Blackbird"]
images = [  # id, class id, file, train?
    (1, 1, "Black_Footed_Albatross_0001_796111.jpg", 1),
    (2, 1, "Black_Footed_Albatross_0002_55.jpg", 0),
    (3, 2, "Laysan_Albatross_0001_545.jpg", 1),
    (4, 2, "Laysan_Albatross_0002_1027.jpg", 0),
    (5, 3, "Red_Winged_Blackbird_0001_3695.jpg", 1),
    (6, 3, "Red_Winged_Blackbird_0002_5140.jpg", 1),
    (7, 3, "Red_Winged_Blackbird_0003_4155.jpg", 0),
]
class_ids = {1: classes[0], 2: classes[1], 3: classes[2]}
for i, (image_id, cls, name, _) in enumerate(images):
    img = gradient(40 + i, 30 + 2 * i, image_id)
    path = f"{cub}/images/{class_ids[cls]}/{name}"
    if image_id == 4:
        save_jpeg(path, img.convert("L"))
    elif image_id == 6:
        # Photoshop-style (Adobe, inverted) CMYK with a non-zero black channel
        c, m, y, _ = img.convert("CMYK").split()
        k = Image.linear_gradient("L").resize(img.size).point(lambda v: v // 2)
        save_jpeg(path, Image.merge("CMYK", (c, m, y, k)))
    else:
        save_jpeg(path, img)
write(f"{cub}/classes.txt", "".join(f"{i + 1} {c}\n" for i, c in enumerate(classes)))
write(f"{cub}/images.txt", "".join(f"{i} {class_ids[c]}/{n}\n" for i, c, n, _ in images))
write(f"{cub}/image_class_labels.txt", "".join(f"{i} {c}\n" for i, c, _, _ in images))
write(f"{cub}/train_test_split.txt", "".join(f"{i} {t}\n" for i, _, _, t in images))

# --- FGVC-Aircraft 2013b: variant names with spaces and '/'
air = "aircraft/fgvc-aircraft-2013b/data"
variants = ["707-320", "A300B4", "F/A-18", "Boeing 717", "DHC-1"]
air_train = [("0034309", "F/A-18"), ("0034958", "707-320"), ("0037511", "Boeing 717"), ("0041234", "A300B4"), ("1000001", "DHC-1")]
air_test = [("0056978", "F/A-18"), ("0062000", "Boeing 717")]
for k, (image_id, _) in enumerate(air_train + air_test):
    save_jpeg(f"{air}/images/{image_id}.jpg", gradient(36, 28, 100 + k))
write(f"{air}/variants.txt", "".join(v + "\n" for v in variants))
write(f"{air}/images_variant_trainval.txt", "".join(f"{i} {v}\n" for i, v in air_train))
write(f"{air}/images_variant_test.txt", "".join(f"{i} {v}\n" for i, v in air_test))

# --- Stanford Cars, both distributions (the .mat files are Octave's)
for k in range(1, 7):
    save_jpeg(f"cars_annos/car_ims/{k:06d}.jpg", gradient(44, 30, 200 + k))
for k in range(1, 5):
    save_jpeg(f"cars_devkit/cars_train/{k:05d}.jpg", gradient(44, 30, 300 + k))
for k in range(1, 4):
    save_jpeg(f"cars_devkit/cars_test/{k:05d}.jpg", gradient(44, 30, 400 + k))

# --- Stanford Dogs
dog_files = ["n02085620-Chihuahua/n02085620_5927.jpg", "n02085620-Chihuahua/n02085620_4441.jpg",
             "n02085782-Japanese_spaniel/n02085782_2874.jpg", "n02086240-Shih-Tzu/n02086240_6084.jpg",
             "n02086240-Shih-Tzu/n02086240_1011.jpg"]
for k, f in enumerate(dog_files):
    save_jpeg(f"dogs/Images/{f}", gradient(32, 40, 500 + k))

# --- ImageFolder with a PNG and an RGBA PNG
for split, files in {"train": [("cat", "a.jpg"), ("cat", "b.png"), ("dog", "c.jpg"), ("dog", "d.png")],
                     "test": [("cat", "e.jpg"), ("dog", "f.png")]}.items():
    for k, (cls, name) in enumerate(files):
        path = f"imagefolder/{split}/{cls}/{name}"
        os.makedirs(os.path.dirname(path), exist_ok=True)
        img = gradient(24, 20, 600 + k + (10 if split == "test" else 0))
        if name == "d.png":
            img = img.convert("RGBA")
        img.save(path)
write("imagefolder/train/cat/notes.txt", "not an image, ImageFolder ignores it\n")


# --- IDX: 5 train images (gzipped), 3 test images (plain), 4x3 pixels, labels 0..2
def idx_images(pixels, count, rows, cols):
    return struct.pack(">iiii", 0x803, count, rows, cols) + bytes(pixels)


def idx_labels(labels):
    return struct.pack(">ii", 0x801, len(labels)) + bytes(labels)


os.makedirs("idx", exist_ok=True)
train_pixels = [(17 * i) % 256 for i in range(5 * 12)]
test_pixels = [(255 - 9 * i) % 256 for i in range(3 * 12)]
with gzip.open("idx/train-images-idx3-ubyte.gz", "wb") as f:
    f.write(idx_images(train_pixels, 5, 3, 4))
with gzip.open("idx/train-labels-idx1-ubyte.gz", "wb") as f:
    f.write(idx_labels([2, 0, 1, 1, 2]))
with open("idx/t10k-images-idx3-ubyte", "wb") as f:
    f.write(idx_images(test_pixels, 3, 3, 4))
with open("idx/t10k-labels-idx1-ubyte", "wb") as f:
    f.write(idx_labels([0, 1, 2]))

# --- Pillow references: resize (BILINEAR, Pillow's own antialiased resampling) and JPEG decoding
os.makedirs("pil", exist_ok=True)
src = gradient(37, 23, 777)
src.save("pil/resize_source.png")
for (w, h) in [(16, 11), (60, 50), (37, 9), (5, 23), (120, 90)]:
    with open(f"pil/resize_{w}x{h}.rgb", "wb") as f:
        f.write(src.resize((w, h), Image.BILINEAR).tobytes())
for path in [f"{cub}/images/{classes[0]}/Black_Footed_Albatross_0001_796111.jpg",
             f"{cub}/images/{classes[1]}/Laysan_Albatross_0002_1027.jpg",
             f"{cub}/images/{classes[2]}/Red_Winged_Blackbird_0002_5140.jpg"]:
    name = os.path.basename(path).replace(".jpg", "")
    with open(f"pil/decoded_{name}.rgb", "wb") as f:
        f.write(Image.open(path).convert("RGB").tobytes())
print("Pillow", Image.__version__ if hasattr(Image, "__version__") else "")
