"""Small JPEG copies of the images a report shows, cached in ``FOLDER/thumbs/``.

A thumbnail's name is a hash of its image's path, size and modification time, so a changed
image gets a new one and an unchanged one is never decoded again; thumbnails no page uses
any more are removed. Making a thumbnail is also the check that an image can be decoded.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from PIL import Image

from .. import __version__
from ..core.errors import TexsynthError
from ..core.files import write_file
from ..features.generator import source_image
from ..image.io import to_pil

THUMB_SIDE = 256  # pixels: crisp at 128 CSS pixels on a high-density screen
THUMB_QUALITY = 88
FOLDER = "thumbs"
# What Pillow raises on a truncated, damaged or hostile file.
IMAGE_ERRORS = (OSError, ValueError, SyntaxError, Image.DecompressionBombError)


class Thumbnails:
    """The thumbnail cache of one report folder."""

    def __init__(self, root: Path, side: int = THUMB_SIDE) -> None:
        self.root = root
        self.folder = root / FOLDER
        self.side = side
        self.used: set[str] = set()
        # Made earlier, by key: a name is KEY_WxH.jpg, WxH the image's own size.
        self.made = {p.name.split("_")[0]: p.name for p in self.folder.glob("*_*.jpg")}

    def of_file(self, path: Path, outline: Any = None) -> tuple[str, tuple[int, int]]:
        """The thumbnail of an image file (relative to the report) and the image's own size;
        OSError or ValueError when the image cannot be read. ``outline(size)`` may give an
        (H, W) boolean hole (an edit's) whose outline is drawn on the thumbnail."""
        if outline is None:
            return self._cached(self._file_key(path), lambda: _decoded(path))
        return self._cached(
            self._file_key(path) + "|outlined", lambda: _outlined(_decoded(path), outline)
        )

    def of_source(self, spec: str) -> tuple[str, tuple[int, int]]:
        """The thumbnail of a synthesis source: a path or ``builtin:NAME``."""
        if spec.startswith("builtin:"):
            return self._cached(f"{spec}|{__version__}|{self.side}", lambda: _source(spec))
        return self._cached(self._file_key(Path(spec)), lambda: _source(spec))

    def _file_key(self, path: Path) -> str:
        stat = path.stat()
        return f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{self.side}"

    def _cached(self, key: str, decode) -> tuple[str, tuple[int, int]]:
        digest = hashlib.sha1(key.encode()).hexdigest()[:20]
        name = self.made.get(digest)
        if name is not None and (self.folder / name).is_file():
            self.used.add(name)
            width, height = name.removesuffix(".jpg").split("_")[1].split("x")
            return f"{FOLDER}/{name}", (int(width), int(height))
        image = decode()
        size = image.size
        name = f"{digest}_{size[0]}x{size[1]}.jpg"
        image.thumbnail((self.side, self.side), Image.Resampling.LANCZOS)
        self.folder.mkdir(exist_ok=True)
        write_file(
            self.folder / name,
            lambda tmp: image.save(tmp, format="JPEG", quality=THUMB_QUALITY),
            overwrite=True,  # named by the digest of what it shows: the same picture
        )
        self.used.add(name)
        self.made[digest] = name
        return f"{FOLDER}/{name}", size

    def prune(self) -> None:
        """Remove the thumbnails that the page just written does not use."""
        if self.folder.is_dir():
            for path in self.folder.glob("*.jpg"):
                if path.name not in self.used:
                    path.unlink(missing_ok=True)


OUTLINE_COLOUR = (255, 0, 255)


def _outlined(image: Image.Image, outline: Any) -> Image.Image:
    """``image`` with the edge of its hole drawn, thick enough to show in the thumbnail."""
    import numpy as np
    from scipy import ndimage

    hole = outline(image.size)
    if hole is None or tuple(hole.shape) != image.size[::-1]:
        return image
    hole = np.asarray(hole, bool)
    width = max(1, round(max(image.size) / THUMB_SIDE))
    edge = ndimage.binary_dilation(hole, iterations=width) & ~ndimage.binary_erosion(
        hole, iterations=width, border_value=1
    )
    pixels = np.array(image)
    pixels[edge] = OUTLINE_COLOUR
    return Image.fromarray(pixels)


def _decoded(path: Path) -> Image.Image:
    """The whole file decoded as texsynth reads images (16-bit maps at their full range,
    alpha over white): a truncated PNG fails here, not later."""
    from ..image.io import load_image

    try:
        return to_pil(load_image(path).pixels).convert("RGB")
    except TexsynthError as exc:
        raise ValueError(str(exc)) from exc


def _source(spec: str) -> Image.Image:
    try:
        return to_pil(source_image(spec).pixels).convert("RGB")
    except TexsynthError as exc:
        raise ValueError(str(exc)) from exc
