"""Image files at their own depth: 8- or 16-bit, grey or colour, with or without alpha.

Pillow decodes and encodes most formats, but only 8 bits per colour channel: it cuts a
16-bit RGB PNG to 8 bits on reading and cannot write one. So 16-bit colour PNGs go through
pypng and TIFFs through tifffile; everything else through Pillow. Every reader gives the
same thing, a :class:`Decoded`: integer samples (H, W, planes) and their depth, upright by
the file's EXIF orientation.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

# Output formats that hold 16-bit samples, and those that hold an alpha channel.
DEEP_FORMATS = ("PNG", "TIFF")
ALPHA_FORMATS = ("PNG", "TIFF", "WEBP", "TGA")
DEPTHS = (8, 16)
# EXIF orientation → the numpy steps that make the image upright (as ImageOps.exif_transpose).
_UPRIGHT = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.transpose(1, 0, 2),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: np.rot90(a, 1)[::-1],
    8: lambda a: np.rot90(a, 1),
}


@dataclass(frozen=True)
class Decoded:
    """An image file's samples: (H, W, planes) integers of ``depth`` bits, or floats in
    [0, 1] (a float file, written back at 16 bits); planes are grey, grey + alpha, RGB or
    RGBA."""

    samples: np.ndarray
    depth: int

    @property
    def has_alpha(self) -> bool:
        return self.samples.shape[2] in (2, 4)

    def scaled(self) -> np.ndarray:
        """The samples as float32 in [0, 1]."""
        if np.issubdtype(self.samples.dtype, np.floating):
            return self.samples.astype(np.float32)
        return self.samples.astype(np.float32) / float(2**self.depth - 1)


def decode(data: bytes, img: Image.Image) -> Decoded | None:
    """``data`` (the file's bytes, which Pillow opened as ``img``) decoded at its own depth
    where Pillow would cut it (a 16-bit colour PNG, any TIFF of 8- or 16-bit samples);
    None where Pillow reads it whole."""
    if img.format == "PNG" and png_depth(data) == 16 and img.mode not in ("I;16", "I"):
        samples = _png_samples(data)
    elif img.format == "TIFF":
        samples = _tiff_samples(data)
        if samples is None:
            return None
    else:
        return None
    depth = 16 if samples.dtype == np.uint16 else 8
    orientation = img.getexif().get(0x0112)
    turn = _UPRIGHT.get(orientation)  # type: ignore[arg-type]
    if turn is not None:
        samples = np.ascontiguousarray(turn(samples))
    return Decoded(samples, depth)


def pillow_decoded(img: Image.Image) -> Decoded:
    """What Pillow read, upright: 16-bit and float grey keep their precision; every other
    mode is 8-bit grey, grey + alpha, RGB or RGBA."""
    upright = ImageOps.exif_transpose(img)
    if upright.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        grey = np.clip(np.asarray(upright, dtype=np.int64), 0, 65535).astype(np.uint16)
        return Decoded(grey[..., None], 16)
    if upright.mode == "F":  # float grey (a float TIFF): its values as they are, in [0, 1]
        return Decoded(np.clip(np.asarray(upright, dtype=np.float32), 0, 1)[..., None], 16)
    has_alpha = img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info
    grey = upright.mode in ("1", "L", "LA")
    mode = ("LA" if grey else "RGBA") if has_alpha else ("L" if grey else "RGB")
    samples = np.asarray(upright.convert(mode), dtype=np.uint8)
    return Decoded(samples if samples.ndim == 3 else samples[..., None], 8)


def png_depth(data: bytes) -> int:
    """The bit depth in a PNG's header (IHDR is always the first chunk)."""
    return data[24] if len(data) > 25 else 8


def _png_samples(data: bytes) -> np.ndarray:
    import png

    width, height, rows, info = png.Reader(bytes=data).asDirect()
    planes = info["planes"]
    samples = np.vstack([np.asarray(row, dtype=np.uint16) for row in rows])
    return samples.reshape(height, width, planes)


def _tiff_samples(data: bytes) -> np.ndarray | None:
    import tifffile

    try:
        with tifffile.TiffFile(io.BytesIO(data)) as tiff:
            page = tiff.pages.first
            if page.dtype not in (np.uint8, np.uint16) or len(page.shape) not in (2, 3):
                return None  # Pillow's way (it converts what it can)
            samples = page.asarray()
    except Exception:  # a compression tifffile needs imagecodecs for: Pillow reads 8 bits
        return None
    if samples.ndim == 2:
        samples = samples[..., None]
    elif samples.shape[0] in (1, 2, 3, 4) and samples.shape[2] not in (1, 2, 3, 4):
        samples = samples.transpose(1, 2, 0)  # planar configuration
    return samples if samples.shape[2] in (1, 2, 3, 4) else None


def quantised(values: np.ndarray, depth: int) -> np.ndarray:
    """Float samples in [0, 1] as the integers of ``depth`` bits a file holds."""
    top = 2**depth - 1
    dtype = np.uint16 if depth == 16 else np.uint8
    return (np.clip(values, 0.0, 1.0) * top + 0.5).astype(dtype)


def encode(samples: np.ndarray, path: str | Path, fmt: str) -> None:
    """Write (H, W, planes) integer ``samples`` (uint8 or uint16) to ``path`` as ``fmt``."""
    planes = samples.shape[2]
    if fmt == "TIFF":
        import tifffile

        extra = {"extrasamples": [2]} if planes in (2, 4) else {}  # unassociated alpha
        photometric = "rgb" if planes >= 3 else "minisblack"
        tifffile.imwrite(path, samples, photometric=photometric, **extra)
    elif samples.dtype == np.uint16 and not (fmt == "PNG" and planes == 1):
        import png

        writer = png.Writer(samples.shape[1], samples.shape[0], greyscale=planes < 3,
                            alpha=planes in (2, 4), bitdepth=16)  # fmt: skip
        with open(path, "wb") as out:
            writer.write(out, samples.reshape(samples.shape[0], -1).tolist())
    elif samples.dtype == np.uint16:
        Image.fromarray(samples[..., 0].astype("<u2")).save(path, format=fmt)  # mode I;16
    else:
        mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[planes]
        image = Image.fromarray(samples if planes > 1 else samples[..., 0], mode=mode)
        image.save(path, format=fmt)


__all__ = [
    "ALPHA_FORMATS",
    "DEEP_FORMATS",
    "DEPTHS",
    "Decoded",
    "decode",
    "encode",
    "png_depth",
    "quantised",
]
