"""Materials (issue 39): are a synthesised material's maps aligned as the source's are?

Two procedural materials (made here, nothing downloaded): ``cobbles`` (Voronoi stones,
mortar in the cracks between them) and ``ridges`` (anisotropic ridged noise). Each has a
colour map that depends on its height, a 16-bit height map, the normal map computed from
the height, and a roughness map. Each is synthesised two ways, at the same size and seed:

- ``carried``: ``texsynth synth colour.png --maps height,normal,roughness`` (texsynth's
  way: the maps read at each output pixel's nearest source patch);
- ``separate``: each map synthesised on its own, which is what a user got before.

Alignment, measured in the source and both outputs:

- ``edges``: correlation of the colour's gradient magnitude with the height's (a colour
  edge over a height edge);
- ``normals``: mean cosine between the normal map and the normals computed from the height
  map of the same image;
- ``colour-height``: correlation of the colour's luminance with the height.

And for ``fill`` with the maps, the same in the hole, and whether every kept pixel of
every map is kept. Run: ``python benchmarks/materials.py`` (about 3 minutes on 2 cores);
writes benchmarks/data/materials.json and docs/images/materials_sheet.jpg.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

ROOT = Path(__file__).resolve().parent.parent
SIDE = 128
TEXSYNTH = str(Path(sys.executable).with_name("texsynth"))


def cobbles(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Height and colour of Voronoi stones with mortar between them."""
    points = rng.uniform(0, SIDE, (40, 2))
    ys, xs = np.mgrid[0:SIDE, 0:SIDE]
    offsets = [(dy, dx) for dy in (-SIDE, 0, SIDE) for dx in (-SIDE, 0, SIDE)]
    tiled = np.concatenate([points + o for o in offsets])
    d = np.sqrt((ys[..., None] - tiled[:, 0]) ** 2 + (xs[..., None] - tiled[:, 1]) ** 2)
    order = np.sort(d, axis=-1)
    cell = np.argmin(d, axis=-1) % len(points)
    crack = order[..., 1] - order[..., 0]
    height = np.clip(crack / 6, 0, 1) ** 0.5 + 0.05 * ndimage.gaussian_filter(
        rng.standard_normal((SIDE, SIDE)), 1, mode="wrap"
    )
    height = (height - height.min()) / (height.max() - height.min())
    tint = rng.uniform(0.7, 1.0, (len(points), 3))[cell]
    stone = np.array([0.62, 0.55, 0.48]) * tint
    mortar = np.array([0.25, 0.24, 0.22])
    colour = mortar + (stone - mortar) * np.clip(height * 1.4, 0, 1)[..., None]
    return height, colour


def ridges(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Height and colour of anisotropic ridged noise (a bark or a dune field)."""
    noise = ndimage.gaussian_filter(rng.standard_normal((SIDE, SIDE)), (1.5, 8), mode="wrap")
    ridged = 1 - np.abs(noise / noise.std())
    height = (ridged - ridged.min()) / (ridged.max() - ridged.min())
    low, high = np.array([0.35, 0.22, 0.12]), np.array([0.85, 0.7, 0.45])
    colour = low + (high - low) * height[..., None] ** 1.5
    return height, colour


def normals_of(height: np.ndarray, relief: float = 6.0) -> np.ndarray:
    """Unit normals (H, W, 3) of a height field (wrapping), z up."""
    gy = (np.roll(height, -1, 0) - np.roll(height, 1, 0)) / 2 * relief
    gx = (np.roll(height, -1, 1) - np.roll(height, 1, 1)) / 2 * relief
    v = np.stack([-gx, gy, np.ones_like(height)], -1)  # OpenGL convention: green up
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def lambert(colour: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """The colour lit by one light from the upper left (a shaded render of the material)."""
    light = np.array([-0.5, 0.5, 0.7])
    light /= np.linalg.norm(light)
    shade = np.clip((normals * light).sum(-1), 0, 1)
    return np.clip(colour * (0.25 + 0.85 * shade[..., None]), 0, 1)


def write(path: Path, values: np.ndarray, depth: int = 8) -> Path:
    top = 2**depth - 1
    ints = (np.clip(values, 0, 1) * top + 0.5).astype(np.uint16 if depth == 16 else np.uint8)
    Image.fromarray(ints).save(path)
    return path


def read(path: Path) -> np.ndarray:
    img = Image.open(path)
    arr = np.asarray(img).astype(np.float64)
    return arr / (65535.0 if img.mode.startswith("I") else 255.0)


def measures(colour: np.ndarray, height: np.ndarray, normal: np.ndarray, where=None) -> dict:
    """Alignment of one material's maps (``where``: (H, W) pixels measured; default all)."""
    lum = colour.mean(-1)
    where = np.ones(lum.shape, bool) if where is None else where
    grad = lambda a: np.hypot(ndimage.sobel(a, 0, mode="wrap"), ndimage.sobel(a, 1, mode="wrap"))  # noqa: E731
    vectors = normal * 2 - 1
    vectors /= np.linalg.norm(vectors, axis=-1, keepdims=True)
    own = normals_of(height)
    corr = lambda a, b: float(np.corrcoef(a[where], b[where])[0, 1])  # noqa: E731
    return {
        "edges": corr(grad(lum), grad(height)),
        "normals": float((vectors * own).sum(-1)[where].mean()),
        "colour-height": corr(lum, height),
    }


JOINT_ITERS = 300


def joint(paths: dict[str, Path], seed: int = 0) -> tuple[dict[str, np.ndarray], float]:
    """The other method the issue names: colour, height and normal maps optimised together
    from noise, each map's Gram matrices and the maps' cross-Gram matrices (F_a F_bᵀ / M at
    every layer of the default model) matched to the source's, by L-BFGS on all pixels."""
    import torch

    from texsynth.core.recipe import get_preset
    from texsynth.image.io import load_image
    from texsynth.synthesis.target import prepare_target

    start = time.perf_counter()
    model = prepare_target(str(paths["colour"]), None, get_preset("default")).stats_model
    sources = {k: load_image(paths[k]).pixels for k in ("colour", "height", "normal")}
    pairs = [(a, b) for a in sources for b in sources if a <= b]

    def grams(images: dict) -> dict:
        feats = {k: model.features(v[None].float()) for k, v in images.items()}
        found = {}
        for layer in model.layers:
            for a, b in pairs:
                fa, fb = (feats[k][layer].flatten(2) for k in (a, b))
                found[layer, a, b] = (fa @ fb.transpose(1, 2))[0] / fa.shape[2]
        return found

    with torch.no_grad():
        target = grams(sources)
    generator = torch.Generator().manual_seed(seed)
    x = {k: torch.rand(v.shape, generator=generator).requires_grad_() for k, v in sources.items()}
    optimiser = torch.optim.LBFGS(list(x.values()), max_iter=JOINT_ITERS, history_size=20,
                                  line_search_fn="strong_wolfe")  # fmt: skip

    def loss_of() -> torch.Tensor:
        optimiser.zero_grad()
        made = grams({k: v.clamp(0, 1) for k, v in x.items()})
        loss = sum(((made[k] - g) ** 2).sum() / (g**2).sum() for k, g in target.items())
        loss.backward()
        return loss

    optimiser.step(loss_of)
    out = {k: v.detach().clamp(0, 1).permute(1, 2, 0).numpy().squeeze() for k, v in x.items()}
    v = out["normal"] * 2 - 1  # renormalised, as any tool would
    out["normal"] = (v / np.linalg.norm(v, axis=-1, keepdims=True) + 1) / 2
    return out, time.perf_counter() - start


def texsynth(*args: str) -> float:
    start = time.perf_counter()
    subprocess.run([TEXSYNTH, *args, "-q", "--overwrite"], check=True)
    return time.perf_counter() - start


def main() -> None:
    rng = np.random.default_rng(7)
    rows, sheet = {}, []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, make in (("cobbles", cobbles), ("ridges", ridges)):
            height, colour = make(rng)
            normal = (normals_of(height) + 1) / 2
            rough = np.clip(1 - height * 0.8, 0, 1)
            paths = {
                "colour": write(work / f"{name}_colour.png", colour),
                "height": write(work / f"{name}_height.png", height, 16),
                "normal": write(work / f"{name}_normal.png", normal),
                "roughness": write(work / f"{name}_roughness.png", rough),
            }
            maps = ",".join(str(paths[k]) for k in ("height", "normal", "roughness"))
            out = work / f"{name}_carried.png"
            timing = {
                "carried": texsynth("synth", str(paths["colour"]), "-o", str(out), "--maps", maps)
            }
            carried = {
                k: read(work / f"{name}_carried_{name}_{k}.png")
                for k in ("height", "normal", "roughness")
            }
            carried["colour"] = read(out)
            separate = {}
            timing["separate"] = 0.0
            for key in ("colour", "height", "normal"):
                target = work / f"{name}_separate_{key}.png"
                timing["separate"] += texsynth("synth", str(paths[key]), "-o", str(target))
                separate[key] = read(target)
            # A separately synthesised normal map is renormalised, as any tool would.
            v = separate["normal"] * 2 - 1
            separate["normal"] = (v / np.linalg.norm(v, axis=-1, keepdims=True) + 1) / 2
            joined, timing["joint"] = joint(paths)
            mask = np.zeros((SIDE, SIDE))
            mask[44:76, 40:80] = 1  # a hole of 8% of the image, as one mends a blemish
            write(work / "mask.png", mask)
            filled = work / f"{name}_fill.png"
            texsynth(
                "fill",
                str(paths["colour"]),
                "--mask",
                str(work / "mask.png"),
                "-o",
                str(filled),
                "--maps",
                maps,
            )
            fill = {
                k: read(work / f"{name}_fill_{name}_{k}.png")
                for k in ("height", "normal", "roughness")
            }
            fill["colour"] = read(filled)
            hole = mask > 0
            sources = {
                "colour": colour,
                "height": read(paths["height"]),
                "normal": read(paths["normal"]),
                "roughness": read(paths["roughness"]),
            }
            kept = all(
                np.array_equal(fill[k][~hole], read(paths[k])[~hole])
                for k in ("colour", "height", "normal", "roughness")
            )
            rows[name] = {
                "source": measures(sources["colour"], sources["height"], sources["normal"]),
                "carried": measures(carried["colour"], carried["height"], carried["normal"]),
                "separate": measures(separate["colour"], separate["height"], separate["normal"]),
                "joint": measures(joined["colour"], joined["height"], joined["normal"]),
                "fill (hole)": measures(fill["colour"], fill["height"], fill["normal"], hole),
                "fill keeps every kept pixel of every map": kept,
                "seconds": timing,
            }
            for label, m in (
                ("source", sources),
                ("carried", carried),
                ("separate", separate),
                ("joint", joined),
                ("fill", fill),
            ):
                sheet.append((f"{name}: {label}", m))
            print(name, json.dumps(rows[name], indent=1))
    data = ROOT / "benchmarks" / "data" / "materials.json"
    data.write_text(json.dumps({"side": SIDE, "materials": rows}, indent=2) + "\n")
    draw_sheet(sheet, ROOT / "docs" / "images" / "materials_sheet.jpg")


def draw_sheet(rows: list, path: Path) -> None:
    """Each row a material as colour, height, normal, roughness and a Lambert render."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    titles = ["colour", "height", "normal", "roughness", "lit (Lambert)"]
    fig, axes = plt.subplots(len(rows), 5, figsize=(10, 2.1 * len(rows)))
    for r, (label, m) in enumerate(rows):
        v = m["normal"] * 2 - 1
        v = v / np.linalg.norm(v, axis=-1, keepdims=True)
        pictures = [
            m["colour"],
            m["height"],
            m["normal"],
            m.get("roughness"),
            lambert(m["colour"], v),
        ]
        for c, picture in enumerate(pictures):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if picture is None:
                ax.axis("off")
                continue
            ax.imshow(np.clip(picture, 0, 1), cmap="gray", vmin=0, vmax=1)
            if r == 0:
                ax.set_title(titles[c], fontsize=9)
            if c == 0:
                ax.set_ylabel(label, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)


if __name__ == "__main__":
    main()
