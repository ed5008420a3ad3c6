"""Reading and writing images: the first and last step of the data flow.

Images inside texsynth are float32 tensors of shape (C, H, W) with values in [0, 1],
C = 3 for colour and C = 1 for grayscale. Reading accepts any file Pillow can decode
(palette, RGBA, 16-bit, CMYK … are converted) and a few built-in example images shipped
by scikit-image (``builtin:NAME``). Writing goes through :mod:`texsynth.core.files`: a file
appears complete or not at all.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from ..core.errors import ImageError
from ..core.files import Writer, check_new, sidecar_path, text_writer, write_file
from ..core.files import current_umask as current_umask  # re-exported for users of the API
from . import formats

check_output_path = check_new  # the start check's older name, kept for users of the API

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
    sha256: str | None = None  # of the file's bytes, read once with the pixels (files only)
    alpha: torch.Tensor | None = None  # (H, W) in [0, 1]: the file's alpha, when it has one
    depth: int = 8  # bits per sample of the file (8 or 16); 8 for what is not a file
    # (C, H, W): the file's colour before it was composited over white (where it has alpha)
    unblended: torch.Tensor | None = None

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


def check_readable(path: Path, what: str = "file") -> None:
    """Refuse, in words, a path that cannot be read: missing, a folder, a broken link."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ImageError(f"{path} is a loop of symbolic links") from None
        if path.is_symlink():
            raise ImageError(f"{path} is a broken symbolic link (to {os.readlink(path)})") from None
        if exc.errno == errno.ENOENT:
            raise ImageError(f"no such {what}: {path}") from None
        raise ImageError(f"cannot read {path}: {exc.strerror or exc}") from None
    if path.is_dir():
        raise ImageError(f"{path} is a directory, not an image file")


def read_image_file(path: str | os.PathLike) -> np.ndarray:
    """Read an image file to float32 (H, W) or (H, W, 3) in [0, 1], with clear errors.

    The EXIF orientation is applied, so a photograph comes out as it is shown, not as the
    camera's sensor stored it. Transparent pixels are composited over white.
    """
    return _read_file(path).pixels


@dataclass(frozen=True)
class _FileImage:
    pixels: np.ndarray  # (H, W) or (H, W, 3), composited over white where there is alpha
    alpha: np.ndarray | None  # (H, W)
    unblended: np.ndarray | None  # the colour before compositing, where there is alpha
    depth: int
    sha256: str


def _read_file(path: str | os.PathLike) -> _FileImage:
    """An image file read once: its pixels, alpha, depth and the sha256 of its bytes."""
    p = Path(path)
    check_readable(p)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ImageError(f"cannot read {p}: {exc.strerror or exc}") from None
    digest = hashlib.sha256(data).hexdigest()
    try:
        with _refusing_bombs(p), Image.open(io.BytesIO(data)) as img:
            decoded = formats.decode(data, img)
            if decoded is None:
                img.load()  # decode now: truncated files fail here, not later
                decoded = formats.pillow_decoded(img)
    except UnidentifiedImageError:
        raise ImageError(f"{p} is not an image file Pillow can read") from None
    except (OSError, SyntaxError, ValueError, KeyError, IndexError) as exc:
        raise ImageError(f"cannot read image {p}: it is truncated or corrupt ({exc})") from None
    except Exception as exc:  # pypng's and tifffile's own errors on a damaged file
        raise ImageError(f"cannot read image {p}: {exc}") from None
    values = decoded.scaled()
    colour = values[..., : values.shape[2] - decoded.has_alpha]
    alpha = values[..., -1] if decoded.has_alpha else None
    # Transparent pixels have arbitrary colours underneath; composite over white so the
    # texture the user sees is the texture we model.
    shown = colour if alpha is None else colour * alpha[..., None] + (1 - alpha[..., None])
    unblended = None if alpha is None else _squeezed(colour)
    return _FileImage(_squeezed(shown), alpha, unblended, decoded.depth, digest)


def _squeezed(values: np.ndarray) -> np.ndarray:
    return values[..., 0] if values.shape[2] == 1 else values


def load_image(source: ImageLike, grayscale: bool | None = None) -> LoadedImage:
    """Load an image from a path, ``builtin:NAME``, PIL image, array or tensor.

    Arrays and tensors may be (H, W), (H, W, 3) or (C, H, W); integer arrays are scaled by
    their dtype's range, floats must already lie in [0, 1]. ``grayscale=True`` converts a colour
    image to luminance, ``False`` replicates a gray one to RGB; ``None`` keeps it as it is.
    A file is read once: its bytes' sha256 and its alpha channel come with the pixels.
    """
    sha256, alpha, unblended, depth = None, None, None, 8
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
        read = _read_file(source)
        pixels, name = _array_to_pixels(read.pixels), str(source)
        sha256, depth = read.sha256, read.depth
        alpha = None if read.alpha is None else torch.from_numpy(read.alpha)
        if read.unblended is not None:
            unblended = _array_to_pixels(read.unblended)
    if not torch.isfinite(pixels).all() or pixels.min() < 0 or pixels.max() > 1:
        raise ImageError(f"{name}: pixel values must be finite and lie in [0, 1]")
    pixels = _colour_mode(pixels, grayscale)
    unblended = None if unblended is None else _colour_mode(unblended, grayscale)
    return LoadedImage(pixels, name, sha256, alpha, depth, unblended)


def _colour_mode(pixels: torch.Tensor, grayscale: bool | None) -> torch.Tensor:
    """``pixels`` as luminance (``grayscale=True``), as RGB (False) or as they are (None)."""
    if grayscale is True and pixels.shape[0] == 3:
        weights = torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)
        return (pixels * weights).sum(0, keepdim=True)
    if grayscale is False and pixels.shape[0] == 1:
        return pixels.expand(3, -1, -1).contiguous()
    return pixels


def load_label_map(source: ImageLike) -> tuple[torch.Tensor, list[int]]:
    """A label map (grey or colour image, or integer array) as (H, W) region indices.

    Each distinct value (colour) is one region; regions are numbered in the order of their
    values, so the darkest grey is region 0. Returns the indices and the distinct values.
    """
    if isinstance(source, (str, os.PathLike)):
        p = Path(source)
        check_readable(p, "label map")
        try:
            with _refusing_bombs(p), Image.open(p) as img:
                img = ImageOps.exif_transpose(img)  # as the photograph it labels is read
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


def resample(pixels: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """(C, H, W) in [0, 1] resampled to ``height``×``width``: bilinear, antialiased when it
    shrinks (texsynth's one resampler: sources, coarse scales, crops)."""
    out = torch.nn.functional.interpolate(
        pixels[None], size=(height, width), mode="bilinear", antialias=True, align_corners=False
    )
    return out[0].clamp(0, 1)


def resize_and_crop(pixels: torch.Tensor, side: int) -> torch.Tensor:
    """Resize (C, H, W) so the shorter side is ``side`` (antialiased), then centre-crop a square."""
    _, h, w = pixels.shape
    scale = side / min(h, w)
    new_h, new_w = max(side, round(h * scale)), max(side, round(w * scale))
    resized = resample(pixels, new_h, new_w)
    top, left = (new_h - side) // 2, (new_w - side) // 2
    return resized[:, top : top + side, left : left + side]


def to_bytes(pixels: torch.Tensor) -> torch.Tensor:
    """Pixels in [0, 1] → the 8-bit values a PNG of them holds (uint8, same shape)."""
    return (pixels.detach().cpu().float().clamp(0, 1) * 255.0 + 0.5).to(torch.uint8)


def to_pil(pixels: torch.Tensor) -> Image.Image:
    """(C, H, W) tensor in [0, 1] → 8-bit PIL image (mode L for C = 1, RGB for C = 3)."""
    arr = to_bytes(pixels).numpy()
    if arr.shape[0] == 1:
        return Image.fromarray(arr[0], mode="L")
    return Image.fromarray(arr.transpose(1, 2, 0), mode="RGB")


def image_format(path: str | os.PathLike) -> str:
    """Pillow's format for ``path``'s extension (PNG when it has none)."""
    return Image.registered_extensions().get(Path(path).suffix.lower(), "PNG")


def image_writer(
    pixels: torch.Tensor,
    path: str | os.PathLike,
    depth: int = 8,
    alpha: torch.Tensor | None = None,
) -> Writer:
    """A :data:`~texsynth.core.files.Writer` of (C, H, W) ``pixels`` in the format ``path``
    names, at ``depth`` bits per sample, with an (H, W) ``alpha`` channel if given."""
    fmt = image_format(path)
    check_holds(path, depth, alpha is not None)
    if depth == 8 and alpha is None:
        return lambda tmp: to_pil(pixels).save(tmp, format=fmt)
    planes = pixels.detach().cpu().float() if alpha is None else torch.cat(
        [pixels.detach().cpu().float(), alpha.detach().cpu().float()[None]]
    )  # fmt: skip
    samples = formats.quantised(planes.permute(1, 2, 0).numpy(), depth)
    return lambda tmp: formats.encode(samples, tmp, fmt)


def file_depth(path: str | os.PathLike) -> tuple[int, bool]:
    """An image file's bits per sample (8 or 16) and whether it has alpha, from its header
    alone; (8, False) for what is not a readable image file (its reader says why later)."""
    try:
        with Image.open(path) as img:
            depth = 16 if img.mode.startswith("I;16") or img.mode == "I" else 8
            if img.format == "PNG":
                with open(path, "rb") as f:
                    depth = max(depth, formats.png_depth(f.read(26)))
            elif img.format == "TIFF":
                depth = 16 if img.tag_v2.get(258, (8,))[0] == 16 else depth  # BitsPerSample
            alpha = img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info
            if img.format == "TIFF" and len(img.tag_v2.get(258, ())) in (2, 4):
                alpha = True
            return depth, alpha
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return 8, False


def check_holds(path: str | os.PathLike, depth: int, alpha: bool) -> None:
    """Refuse, in words, an output format that cannot hold ``depth`` bits or an alpha
    channel (the result would silently lose them)."""
    fmt = image_format(path)
    if depth not in formats.DEPTHS:
        raise ImageError(f"cannot write {depth}-bit samples; choose 8 or 16")
    if depth == 16 and fmt not in formats.DEEP_FORMATS:
        raise ImageError(
            f"{path}: a {fmt} file holds 8 bits per sample and the result has 16; write .png "
            "or .tif, or ask for --depth 8"
        )
    if alpha and fmt not in formats.ALPHA_FORMATS:
        raise ImageError(
            f"{path}: a {fmt} file holds no alpha channel and the result has one; write .png "
            "or .tif"
        )


def image_and_sidecar(
    pixels: torch.Tensor, record: dict, path: str | os.PathLike, material: Any = None
) -> list[tuple[Path, Writer]]:
    """The writers of an image at ``path`` and of its JSON sidecar beside it, to be placed
    together by :func:`~texsynth.core.files.write_files` (every command that writes a result
    writes these). A :class:`~texsynth.image.material.Material` writes the image at its
    depth with its alpha, and its maps beside it, instead of ``pixels``."""
    import json

    sidecar = json.dumps(record, indent=2) + "\n"
    images = [(Path(path), image_writer(pixels, path))] if material is None else (
        material.writers(Path(path))
    )  # fmt: skip
    return [*images, (sidecar_path(path), text_writer(sidecar))]


def save_image(pixels: torch.Tensor, path: str | os.PathLike, overwrite: bool = True) -> Path:
    """Write a (C, H, W) image, complete or not at all (:mod:`texsynth.core.files`); the format
    follows the extension (PNG if none). ``overwrite=False`` never replaces a file."""
    return write_file(path, image_writer(pixels, path), overwrite)
