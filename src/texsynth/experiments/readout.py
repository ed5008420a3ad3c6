"""Fig. 4 of the paper: how much object information a linear read-out finds in each layer.

For every layer, the texture representation of an image (the upper triangle of its Gram
matrix) is standardised, reduced by PCA and fed to a logistic-regression classifier
(scikit-learn); held-out accuracy comes from stratified k-fold cross-validation, with the
scaler and PCA fitted inside each training fold.

The paper did this on ImageNet, which cannot be reached here. ``--data ROOT`` takes any
labelled folder tree (``ROOT/CLASS/*.jpg``, e.g. an ImageNet subset). Without it, when
``../shared/imagenet-sample`` is present (one ImageNet photograph per ILSVRC-2012 class),
the classes are grouped into superclasses by index ranges of the standard hierarchy and
the read-out tells superclasses apart. Without either, the experiment builds a small
stand-in from scikit-image's images (random crops; class = the image a crop came from).
Every output says which of these it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..core.errors import TexsynthError
from ..features.weights import load_weights
from ..image.io import BUILTIN_IMAGES, BUILTIN_PREFIX, list_images, load_image, resize_and_crop
from ..statistics.gram import gram_matrix
from ..statistics.model import TextureModel
from .common import FigureRecord, Settings, finish, progress_bar, wrap

NAME = "readout"
TITLE = "Linear read-out of Gram features per layer (Gatys et al. 2015, Fig. 4)"
READOUT_LAYERS: tuple[str, ...] = ("conv1_1", "pool1", "pool2", "pool3", "pool4", "pool5")
NOT_IMAGENET = (
    "NOT the paper's ImageNet experiment: a small offline stand-in built from scikit-image's "
    "images (classes = which image a random crop came from). Telling images apart by "
    "crops is largely a texture task, so accuracy may be near ceiling at every layer: the "
    "stand-in exercises the method, it does not test the paper's claim."
)


def builtin_dataset(
    per_class: int, size: int, seed: int = 0
) -> tuple[list[torch.Tensor], list[str]]:
    """Random crops (¼ to ⅗ of the shorter side, random flips) of each built-in image."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for name in BUILTIN_IMAGES:
        pixels = load_image(f"{BUILTIN_PREFIX}{name}").pixels
        _, h, w = pixels.shape
        for _ in range(per_class):
            side = max(8, int(rng.uniform(0.25, 0.6) * min(h, w)))
            top = int(rng.integers(0, h - side + 1))
            left = int(rng.integers(0, w - side + 1))
            crop = pixels[:, top : top + side, left : left + side]
            if rng.random() < 0.5:
                crop = crop.flip(-1)
            images.append(resize_and_crop(crop, size))
            labels.append(name)
    return images, labels


# Superclasses of ILSVRC-2012 by ranges of class index (inclusive), in the standard order.
SUPERCLASSES: dict[str, tuple[tuple[int, int], ...]] = {
    "birds": ((7, 24), (80, 100), (127, 146)),
    "reptiles, amphibians": ((25, 68),),
    "invertebrates": ((69, 79), (107, 126), (300, 326)),
    "dogs": ((151, 268),),
    "other mammals": ((269, 299), (330, 388)),
    "man-made objects": ((400, 922),),
    "food": ((923, 969),),
}
SAMPLE_PER_SUPERCLASS = 48  # balanced: at most this many photographs of each
SAMPLE_NOTE = (
    "A superclass read-out on a 1,000-photograph ImageNet sample (one photograph per class, "
    "../shared/imagenet-sample; classes grouped by index range into {n} superclasses, at most "
    "{cap} photographs each), NOT the paper's full ImageNet experiment."
)


def imagenet_sample_dataset(
    folder: Path, seed: int = 0, cap: int = SAMPLE_PER_SUPERCLASS
) -> tuple[list[Path], list[str]]:
    """Photographs of the 1,000-class sample (sorted names give the class index) labelled
    by superclass, at most ``cap`` of each (a seeded choice)."""
    files = sorted(folder.glob("*.jpg"))
    if len(files) != 1000:
        raise TexsynthError(f"{folder} should hold 1,000 photographs, one per class")
    rng = np.random.default_rng(seed)
    paths, labels = [], []
    for name, ranges in SUPERCLASSES.items():
        members = [files[i] for lo, hi in ranges for i in range(lo, hi + 1)]
        chosen = sorted(rng.choice(len(members), min(cap, len(members)), replace=False))
        paths += [members[i] for i in chosen]
        labels += [name] * len(chosen)
    return paths, labels


def folder_dataset(root: str | Path, per_class: int | None = None) -> tuple[list[Path], list[str]]:
    """Image paths and labels of ``root/CLASS/*`` (at most ``per_class`` per class)."""
    root = Path(root)
    if not root.is_dir():
        raise TexsynthError(f"data folder not found: {root}")
    paths, labels = [], []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        files = list_images(folder)[: per_class or None]
        paths += files
        labels += [folder.name] * len(files)
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise TexsynthError(
            f"{root} needs at least two class folders with images (ROOT/CLASS/*.jpg)"
        )
    return paths, labels


@torch.no_grad()
def gram_features(
    model: TextureModel, images: list[torch.Tensor], progress: bool = False
) -> dict[str, np.ndarray]:
    """Upper triangles of each image's Gram matrices: layer → (n_images, N(N+1)/2)."""
    rows: dict[str, list[np.ndarray]] = {name: [] for name in model.layers}
    with progress_bar(len(images), "gram features", progress, unit="image") as bar:
        for image in images:
            feats = model.features(image.unsqueeze(0).to(model.device))
            for name, f in feats.items():
                g = gram_matrix(f)[0]
                i, j = torch.triu_indices(g.shape[0], g.shape[1])
                rows[name].append(g[i, j].cpu().numpy())
            bar.update()
    return {name: np.stack(r) for name, r in rows.items()}


def cross_validated_accuracy(
    features: np.ndarray,
    labels: list[str],
    pca_components: int = 64,
    folds: int = 5,
    seed: int = 0,
) -> tuple[float, float, int]:
    """Mean and s.d. of held-out accuracy, and the number of folds used."""
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    _, counts = np.unique(labels, return_counts=True)
    k = min(folds, int(counts.min()))
    if k < 2:
        raise TexsynthError("every class needs at least two images for cross-validation")
    n_train = len(labels) - len(labels) // k
    n_comp = max(1, min(pca_components, features.shape[1], n_train - 1))
    clf = make_pipeline(
        StandardScaler(),
        PCA(n_components=n_comp, random_state=seed),
        LogisticRegression(max_iter=2000),
    )
    cv = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    scores = cross_val_score(clf, features, np.asarray(labels), cv=cv)
    return float(scores.mean()), float(scores.std()), k


@dataclass(frozen=True)
class Dataset:
    """Which images the read-out used, as the CSV, the caption and the title say it."""

    name: str
    note: str  # the caption's opening, "" for the user's own folder
    subtitle: str


def readout_images(settings: Settings) -> tuple[list, list[str], Dataset]:
    """The labelled images: ``--data``, else the ImageNet sample's superclasses when
    ``settings.imagenet_sample`` is there (default ``../shared/imagenet-sample``), else the
    built-in stand-in."""
    if settings.data:
        paths, labels = folder_dataset(settings.data, settings.per_class)
        dataset = Dataset(f"folder {settings.data}", "", "")
    elif Path(settings.imagenet_sample).is_dir():
        paths, labels = imagenet_sample_dataset(Path(settings.imagenet_sample), settings.seed)
        note = SAMPLE_NOTE.format(n=len(SUPERCLASSES), cap=SAMPLE_PER_SUPERCLASS) + " "
        dataset = Dataset("imagenet-sample superclasses", note, "\n(ImageNet sample, superclasses)")
    else:
        images, labels = builtin_dataset(settings.per_class, settings.size, settings.seed)
        subtitle = "\n(offline stand-in, not ImageNet)"
        return images, labels, Dataset("built-in stand-in", NOT_IMAGENET + " ", subtitle)
    images = [resize_and_crop(load_image(p).pixels, settings.size) for p in paths]
    return images, labels, dataset


def run(settings: Settings, folder: Path) -> FigureRecord:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    weights = load_weights(settings.weights)
    model = TextureModel.from_weights(weights, READOUT_LAYERS, device=settings.device)
    model.check_size(settings.size, settings.size, "read-out image size")
    images, labels, dataset = readout_images(settings)
    feats = gram_features(model, images, settings.progress)
    classes = sorted(set(labels))
    chance = float(max(labels.count(c) for c in classes) / len(labels))
    rows = []
    for name in READOUT_LAYERS:
        mean, sd, k = cross_validated_accuracy(feats[name], labels, seed=settings.seed)
        rows.append(
            {
                "layer": name,
                "gram_features": int(feats[name].shape[1]),
                "accuracy_mean": mean,
                "accuracy_sd": sd,
                "folds": k,
                "images": len(labels),
                "classes": len(classes),
                "chance": chance,
                "dataset": dataset.name,
            }
        )
    caption = (
        dataset.note
        + f"Held-out accuracy (mean ± s.d. over {rows[0]['folds']} stratified folds) of a "
        "logistic-regression classifier on each layer's Gram matrix (upper triangle; "
        "standardised, then PCA to at most 64 components, fitted within each training fold), "
        f"normalised VGG-19 with average pooling. {len(labels)} images of {len(classes)} "
        f"classes at {settings.size}×{settings.size} px; dashed: chance. The paper reports "
        "that object information grows with depth on ImageNet; run with --data on a labelled "
        "image folder (e.g. an ImageNet subset) for that experiment."
    )
    caption_text = wrap(caption, 95)
    lines = caption_text.count("\n") + 1
    fig, ax = plt.subplots(figsize=(6.5, 4.0 + 0.13 * lines))
    fig.subplots_adjust(bottom=(0.55 + 0.13 * lines) / (4.0 + 0.13 * lines), top=0.88)
    x = np.arange(len(rows))
    ax.errorbar(
        x,
        [r["accuracy_mean"] for r in rows],
        yerr=[r["accuracy_sd"] for r in rows],
        marker="o",
        capsize=3,
        label="Gram features",
    )
    ax.axhline(chance, ls="--", color="grey", label="chance")
    ax.set_xticks(x, [r["layer"] for r in rows])
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("layer")
    ax.set_ylabel("held-out accuracy")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(TITLE + dataset.subtitle, fontsize=9)
    fig.text(0.02, 0.02, caption_text, fontsize=6.5, va="bottom", ha="left")
    return finish(
        NAME,
        TITLE,
        caption,
        folder,
        fig,
        rows,
        settings,
        {
            "dataset": dataset.name,
            "classes": classes,
            "imagenet": False if not settings.data else None,
        },
    )
