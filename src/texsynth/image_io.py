"""Reading and writing images: the first and last step of the data flow.

Images inside texsynth are float32 tensors of shape (C, H, W) with values in [0, 1],
C = 3 for colour and C = 1 for grayscale. Reading accepts any file Pillow can decode
(palette, RGBA, 16-bit, CMYK … are converted) and a few built-in example images shipped
by scikit-image (``builtin:NAME``). Writing is atomic: the file appears complete or not at all.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from .errors import ImageError, OutputError

BUILTIN_PREFIX = "builtin:"
# Example images that scikit-image ships inside its wheel (no download needed).
BUILTIN_IMAGES: dict[str, str] = {
    "ihc": "immunohistochemistry",
    "brick": "brick",
    "grass": "grass",
    "gravel": "gravel",
    "hubble": "hubble_deep_field",
    "coffee": "coffee",
    "chelsea": "chelsea",
    "astronaut": "astronaut",
    "rocket": "rocket",
    "camera": "camera",
    "coins": "coins",
    "moon": "moon",
    "page": "page",
    "text": "text",
    "retina": "retina",
    "clock": "clock",
}

ImageLike = str | os.PathLike | Image.Image | np.ndarray | torch.Tensor


@dataclass
class LoadedImage:
    """An image as texsynth uses it: ``pixels`` (C, H, W) float32 in [0, 1]."""

    pixels: torch.Tensor
    name: str

    @property
    def grayscale(self) -> bool:
        return self.pixels.shape[0] == 1

    @property
    def width(self) -> int:
        return int(self.pixels.shape[2])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[1])


def _pil_to_array(img: Image.Image) -> np.ndarray:
    """Decode any Pillow mode to float32 (H, W) or (H, W, 3) in [0, 1]."""
    mode = img.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # 16-bit PNGs load as I;16 or I; scale by the 16-bit range.
        arr = np.asarray(img, dtype=np.float64)
        return np.clip(arr / 65535.0, 0.0, 1.0).astype(np.float32)
    if mode == "F":
        return np.clip(np.asarray(img, dtype=np.float32), 0.0, 1.0)
    if mode in ("1", "L"):
        return np.asarray(img.convert("L"), dtype=np.float32) / 255.0
    if mode == "LA" or (mode == "P" and "transparency" in img.info) or mode in ("RGBA", "PA"):
        # Transparent pixels have arbitrary colours underneath; composite over white so the
        # texture the user sees is the texture we model.
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        flat = Image.alpha_composite(background, rgba)
        if mode == "LA":
            return np.asarray(flat.convert("L"), dtype=np.float32) / 255.0
        return np.asarray(flat.convert("RGB"), dtype=np.float32) / 255.0
    return np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0


def _array_to_pixels(arr: np.ndarray) -> torch.Tensor:
    if arr.ndim == 2:
        arr = arr[None]
    elif arr.ndim == 3 and arr.shape[2] in (1, 3):
        arr = arr.transpose(2, 0, 1)
    elif arr.ndim == 3 and arr.shape[0] in (1, 3):
        pass
    else:
        raise ImageError(
            f"expected an image array of shape (H, W), (H, W, 3) or (3, H, W), got {arr.shape}"
        )
    return torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))


def _builtin(name: str) -> np.ndarray:
    key = name[len(BUILTIN_PREFIX) :]
    if key not in BUILTIN_IMAGES:
        raise ImageError(
            f"unknown built-in image {key!r}; choose one of: {', '.join(sorted(BUILTIN_IMAGES))}"
        )
    from skimage import data

    arr = getattr(data, BUILTIN_IMAGES[key])()
    return arr.astype(np.float32) / 255.0


@contextlib.contextmanager
def _refusing_bombs(path: Path) -> Iterator[None]:
    """Refuse images whose header claims more pixels than Pillow reads safely.

    Pillow warns above ``Image.MAX_IMAGE_PIXELS`` (about 89 million) and refuses twice that;
    both are refused here, before any pixel is decoded. A 69-byte PNG can claim 40000² px.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(
            f"{path} is too large: its header claims more than {Image.MAX_IMAGE_PIXELS:,} "
            "pixels, the most that is read safely; downscale it first"
        ) from None


def read_image_file(path: str | os.PathLike) -> np.ndarray:
    """Read an image file to float32 (H, W) or (H, W, 3) in [0, 1], with clear errors."""
    p = Path(path)
    if not p.exists():
        raise ImageError(f"no such file: {p}")
    if p.is_dir():
        raise ImageError(f"{p} is a directory, not an image file")
    try:
        with _refusing_bombs(p), Image.open(p) as img:
            img.load()  # decode now: truncated files fail here, not later
            return _pil_to_array(img)
    except UnidentifiedImageError:
        raise ImageError(f"{p} is not an image file Pillow can read") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"cannot read image {p}: it is truncated or corrupt ({exc})") from None


def load_image(source: ImageLike, grayscale: bool | None = None) -> LoadedImage:
    """Load an image from a path, ``builtin:NAME``, PIL image, array or tensor.

    Arrays and tensors may be (H, W), (H, W, 3) or (C, H, W); integer arrays are scaled by
    their dtype's range, floats must already lie in [0, 1]. ``grayscale=True`` converts a colour
    image to luminance, ``False`` replicates a gray one to RGB; ``None`` keeps it as it is.
    """
    if isinstance(source, torch.Tensor):
        pixels, name = _array_to_pixels(source.detach().cpu().float().numpy()), "<tensor>"
    elif isinstance(source, np.ndarray):
        arr = source
        if np.issubdtype(arr.dtype, np.integer):
            arr = arr.astype(np.float32) / float(np.iinfo(arr.dtype).max)
        pixels, name = _array_to_pixels(arr.astype(np.float32)), "<array>"
    elif isinstance(source, Image.Image):
        pixels, name = _array_to_pixels(_pil_to_array(source)), "<PIL image>"
    elif isinstance(source, str) and source.startswith(BUILTIN_PREFIX):
        pixels, name = _array_to_pixels(_builtin(source)), source
    else:
        pixels, name = _array_to_pixels(read_image_file(source)), str(source)
    if not torch.isfinite(pixels).all() or pixels.min() < 0 or pixels.max() > 1:
        raise ImageError(f"{name}: pixel values must be finite and lie in [0, 1]")
    if grayscale is True and pixels.shape[0] == 3:
        weights = torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)
        pixels = (pixels * weights).sum(0, keepdim=True)
    elif grayscale is False and pixels.shape[0] == 1:
        pixels = pixels.expand(3, -1, -1).contiguous()
    return LoadedImage(pixels=pixels, name=name)


def load_label_map(source: ImageLike) -> tuple[torch.Tensor, list[int]]:
    """A label map (grey or colour image, or integer array) as (H, W) region indices.

    Each distinct value (colour) is one region; regions are numbered in the order of their
    values, so the darkest grey is region 0. Returns the indices and the distinct values.
    """
    if isinstance(source, (str, os.PathLike)):
        p = Path(source)
        if not p.is_file():
            raise ImageError(f"no such label map: {p}")
        try:
            with _refusing_bombs(p), Image.open(p) as img:
                arr = np.asarray(img.convert("RGB"), dtype=np.int64)
        except (UnidentifiedImageError, OSError) as exc:
            raise ImageError(f"cannot read label map {p}: {exc}") from None
    else:
        arr = np.asarray(source.cpu() if isinstance(source, torch.Tensor) else source)
        arr = arr.astype(np.int64)
    if arr.ndim == 3:
        arr = (arr[..., 0] << 16) + (arr[..., 1] << 8) + arr[..., 2]
    if arr.ndim != 2:
        raise ImageError(f"a label map must be 2-D, not of shape {arr.shape}")
    values, indices = np.unique(arr, return_inverse=True)
    return torch.from_numpy(indices.reshape(arr.shape)), [int(v) for v in values]


def list_images(folder: str | os.PathLike) -> list[Path]:
    """Image files directly in ``folder`` (by extension Pillow knows), sorted by name."""
    known = set(Image.registered_extensions())
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() in known)


def resize_and_crop(pixels: torch.Tensor, side: int) -> torch.Tensor:
    """Resize (C, H, W) so the shorter side is ``side`` (antialiased), then centre-crop a square."""
    _, h, w = pixels.shape
    scale = side / min(h, w)
    new_h, new_w = max(side, round(h * scale)), max(side, round(w * scale))
    resized = torch.nn.functional.interpolate(
        pixels.unsqueeze(0),
        size=(new_h, new_w),
        mode="bilinear",
        antialias=True,
        align_corners=False,
    )[0].clamp(0, 1)
    top, left = (new_h - side) // 2, (new_w - side) // 2
    return resized[:, top : top + side, left : left + side]


def to_pil(pixels: torch.Tensor) -> Image.Image:
    """(C, H, W) tensor in [0, 1] → 8-bit PIL image (mode L for C = 1, RGB for C = 3)."""
    arr = (pixels.detach().cpu().clamp(0, 1).numpy() * 255.0 + 0.5).astype(np.uint8)
    if arr.shape[0] == 1:
        return Image.fromarray(arr[0], mode="L")
    return Image.fromarray(arr.transpose(1, 2, 0), mode="RGB")


def check_output_path(path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Fail early (before any work) if ``path`` cannot or must not be written."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.exists():
        raise OutputError(f"output directory does not exist: {parent}")
    if not parent.is_dir():
        raise OutputError(f"output directory is not a directory: {parent}")
    if p.is_dir():
        raise OutputError(f"output path is a directory: {p}")
    if p.exists() and not overwrite:
        raise OutputError(f"output file exists: {p} (pass --overwrite to replace it)")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"output directory is not writable: {parent}")
    return p


def current_umask() -> int:
    """The process's file-creation mask (reading it means setting it, so set it back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds."""
    p = Path(path)
    fd, tmp = tempfile.mkstemp(
        dir=p.parent if str(p.parent) else ".", prefix=f".{p.name}.", suffix=".tmp"
    )
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp creates the file private (0600); give it the permissions a plain open() would.
    tmp_path.chmod(0o666 & ~current_umask())
    try:
        yield tmp_path
        os.replace(tmp_path, p)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def save_image(pixels: torch.Tensor, path: str | os.PathLike) -> None:
    """Write a (C, H, W) image atomically; the format follows the file extension (PNG if none)."""
    p = Path(path)
    fmt = Image.registered_extensions().get(p.suffix.lower(), "PNG")
    with atomic_path(p) as tmp:
        to_pil(pixels).save(tmp, format=fmt)


def write_text(text: str, path: str | os.PathLike) -> None:
    """Write a text file atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
