"""Images that are not CT slices, for measuring the input gate, honestly sourced.

Nothing is downloaded: every negative is either drawn here from a seed (noise, gradients,
matplotlib charts, text pages, shapes, blocky scenes) or is one of the sample images that
ship inside the scikit-image wheel (`skimage/data/*.png|jpg`, the 200 LFW face crops), or in
the scikit-learn and matplotlib wheels (a few photos, logos, an MRI slice), taken whole and
as seeded square crops. `skimage.data` functions that would fetch from the web
(cat, brain, cells3d, ...) are never called. Each family is also given in grayscale, because
a gate that only looks for colour is not enough.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

SIZE = 224

# Files inside the scikit-image wheel (checked: no network needed).
SKIMAGE_FILES = (
    "astronaut.png", "brick.png", "camera.png", "cell.png", "chelsea.png",
    "chessboard_GRAY.png", "chessboard_RGB.png", "clock_motion.png", "coffee.png", "coins.png",
    "color.png", "grass.png", "gravel.png", "horse.png", "hubble_deep_field.jpg", "ihc.png",
    "logo.png", "microaneurysms.png", "moon.png", "motorcycle_left.png", "motorcycle_right.png",
    "page.png", "phantom.png", "retina.jpg", "rocket.jpg", "text.png",
)  # fmt: skip


def noise(rng: np.random.Generator) -> Image.Image:
    """Uniform, Gaussian, salt-and-pepper or smooth (blurred) noise, gray or colour."""
    channels = 3 if rng.random() < 0.5 else 1
    kind = rng.integers(4)
    shape = (SIZE, SIZE, channels)
    if kind == 0:
        pixels = rng.uniform(0, 255, shape)
    elif kind == 1:
        pixels = rng.normal(rng.uniform(40, 200), rng.uniform(10, 80), shape)
    elif kind == 2:
        pixels = np.where(rng.random(shape) < 0.5, 0.0, 255.0) * (rng.random(shape) < 0.3)
    else:
        coarse = rng.uniform(0, 255, (int(rng.integers(4, 24)),) * 2 + (channels,))
        pixels = np.asarray(
            Image.fromarray(coarse.astype(np.uint8).squeeze()).resize((SIZE, SIZE), Image.BICUBIC)
        )
    pixels = np.clip(pixels, 0, 255).astype(np.uint8).squeeze()
    return Image.fromarray(pixels)


def gradient(rng: np.random.Generator) -> Image.Image:
    """Linear or radial ramps between two random colours (radial: bright centre, dark rim)."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] / (SIZE - 1)
    if rng.random() < 0.5:
        angle = rng.uniform(0, 2 * np.pi)
        t = (np.cos(angle) * xx + np.sin(angle) * yy) / (abs(np.cos(angle)) + abs(np.sin(angle)))
        t = t - t.min()
    else:
        t = np.clip(np.hypot(xx - 0.5, yy - 0.5) / rng.uniform(0.4, 0.8), 0, 1)
    start, end = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    pixels = start * (1 - t[..., None]) + end * t[..., None]
    return Image.fromarray(pixels.astype(np.uint8))


def chart(rng: np.random.Generator) -> Image.Image:
    """A matplotlib line, bar, scatter, pie or heat-map chart, rendered off-screen."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(3, 3), dpi=75)
    kind = int(rng.integers(5))
    if kind == 0:
        axes.plot(np.cumsum(rng.normal(size=(50, int(rng.integers(1, 4)))), axis=0))
    elif kind == 1:
        axes.bar(range(6), rng.uniform(1, 10, 6))
    elif kind == 2:
        axes.scatter(*rng.normal(size=(2, 80)), s=8)
    elif kind == 3:
        axes.pie(rng.uniform(1, 5, int(rng.integers(2, 6))))
    else:
        axes.imshow(rng.normal(size=(16, 16)), cmap=str(rng.choice(["gray", "viridis", "magma"])))
    if rng.random() < 0.3:
        figure.patch.set_facecolor("black")
        axes.set_facecolor("black")
    axes.set_title(f"figure {rng.integers(100)}")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB").resize((SIZE, SIZE))


def text_page(rng: np.random.Generator) -> Image.Image:
    """Lines of text on paper (or light text on a dark screen), like a scan or a screenshot."""
    dark = rng.random() < 0.3
    background = int(rng.integers(0, 40)) if dark else int(rng.integers(200, 256))
    ink = 255 - background
    image = Image.new("L", (SIZE, SIZE), background)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    words = ["fracture", "cervical", "report", "patient", "C2", "axial", "slice", "normal", "CT"]
    y = int(rng.integers(2, 20))
    while y < SIZE - 10:
        line = " ".join(rng.choice(words, int(rng.integers(2, 7))))
        draw.text((int(rng.integers(2, 30)), y), line, fill=ink, font=font)
        y += int(rng.integers(10, 18))
    return image.rotate(float(rng.uniform(-3, 3)), fillcolor=background).convert("RGB")


def shapes(rng: np.random.Generator) -> Image.Image:
    """Random ellipses, rectangles and lines; on a black background half of the time."""
    background = (0, 0, 0) if rng.random() < 0.5 else tuple(int(v) for v in rng.integers(0, 256, 3))
    image = Image.new("RGB", (SIZE, SIZE), background)
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(1, 8))):
        x0, x1 = sorted(rng.uniform(0, SIZE, 2))
        y0, y1 = sorted(rng.uniform(0, SIZE, 2))
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        kind = rng.integers(3)
        if kind == 0:
            draw.ellipse([x0, y0, x1 + 1, y1 + 1], fill=colour)
        elif kind == 1:
            draw.rectangle([x0, y0, x1, y1], fill=colour)
        else:
            draw.line([x0, y0, x1, y1], fill=colour, width=int(rng.integers(1, 8)))
    return image.filter(ImageFilter.GaussianBlur(float(rng.uniform(0, 2))))


def blocky_scene(rng: np.random.Generator) -> Image.Image:
    """The tests' colourful sky-to-ground picture with rectangles (tests/synthetic.photo_like)."""
    from tests.synthetic import photo_like

    return photo_like(int(rng.integers(1 << 30)), SIZE)


GENERATED: dict[str, Callable[[np.random.Generator], Image.Image]] = {
    "noise": noise,
    "gradient": gradient,
    "chart": chart,
    "text": text_page,
    "shapes": shapes,
    "blocky_scene": blocky_scene,
}


def square_crops(
    image: Image.Image, rng: np.random.Generator, crops: int, smallest: float
) -> Iterator[Image.Image]:
    """`crops` seeded square crops of `image`, each side `smallest`..1 of its shorter side."""
    width, height = image.size
    for _ in range(crops):
        side = int(rng.uniform(smallest, 1.0) * min(width, height))
        left = int(rng.integers(0, width - side + 1))
        top = int(rng.integers(0, height - side + 1))
        yield image.crop((left, top, left + side, top + side))


def skimage_dir() -> Path:
    """The folder of sample images inside the installed scikit-image wheel."""
    import skimage

    return Path(skimage.__file__).resolve().parent / "data"


def skimage_samples(rng: np.random.Generator, crops: int = 4) -> Iterator[Image.Image]:
    """Each shipped sample whole, then `crops` seeded square crops of it."""
    folder = skimage_dir()
    for name in SKIMAGE_FILES:
        path = folder / name
        if not path.is_file():
            continue
        with Image.open(path) as opened:
            opened.load()
            image = opened.convert("RGB")
        yield image
        yield from square_crops(image, rng, crops, smallest=0.4)


def skimage_faces() -> Iterator[Image.Image]:
    """The 200 gray 25x25 face crops (LFW subset) shipped with scikit-image, upscaled."""
    faces_path = skimage_dir() / "lfw_subset.npy"
    if faces_path.is_file():
        for face in np.load(faces_path):
            pixels = (np.clip(face, 0, 1) * 255).astype(np.uint8)
            yield Image.fromarray(pixels).resize((SIZE, SIZE), Image.BICUBIC)


def other_wheel_images(rng: np.random.Generator, crops: int = 10) -> Iterator[Image.Image]:
    """Photos and pictures shipped in other installed wheels, whole and as square crops.

    scikit-learn's china.jpg and flower.jpg, matplotlib's grace_hopper.jpg and two logos, plus
    matplotlib's MRI head slice (s1045.ima, medical but not CT). The gate was designed
    without looking at these: the benchmark reports them apart, as the nearest thing to
    "photos the project never saw" that needs no download.
    """
    import gzip

    import matplotlib
    import sklearn

    sample_data = Path(matplotlib.__file__).resolve().parent / "mpl-data" / "sample_data"
    files = [
        Path(sklearn.__file__).resolve().parent / "datasets" / "images" / "china.jpg",
        Path(sklearn.__file__).resolve().parent / "datasets" / "images" / "flower.jpg",
        sample_data / "grace_hopper.jpg",
        sample_data / "Minduka_Present_Blue_Pack.png",
        sample_data / "logo2.png",
    ]
    for path in files:
        if not path.is_file():
            continue
        with Image.open(path) as opened:
            image = opened.convert("RGB")
        yield image
        yield from square_crops(image, rng, crops, smallest=0.3)
    mri = sample_data / "s1045.ima.gz"
    if mri.is_file():
        pixels = np.frombuffer(gzip.decompress(mri.read_bytes()), np.uint16).reshape(256, 256)
        scaled = (pixels.astype(np.float32) / max(1, int(pixels.max())) * 255).astype(np.uint8)
        yield Image.fromarray(scaled).convert("RGB")


def negative_families(seed: int = 0, per_family: int = 40) -> dict[str, list[Image.Image]]:
    """Every negative family by name, colour versions as generated and a `-gray` copy of each."""
    rng = np.random.default_rng(seed)
    families = {name: [make(rng) for _ in range(per_family)] for name, make in GENERATED.items()}
    families["skimage"] = list(skimage_samples(rng))
    families["other_wheels"] = list(other_wheel_images(rng))
    for name in list(families):
        families[f"{name}-gray"] = [image.convert("L") for image in families[name]]
    families["faces-gray"] = list(skimage_faces())  # gray at the source
    return families
