"""A material: the main image of a surface and its other maps (normal, height, roughness,
alpha …), pixel for pixel of the same surface.

Every map follows the main image by *places*: for each output pixel, the (row, column) of
the source pixel it shows. An edit's patch fill copies kept pixels, so its places are exact
(:mod:`texsynth.image.shifts`); a synthesis makes new pixels, so its places are each output
pixel's nearest source patch (:mod:`texsynth.image.places`). Each map is then read at those
places, so the maps stay aligned with each other exactly, and with the main image as
closely as its places say. A copy keeps a normal map's vectors as they are; a resampled
normal map is interpolated as vectors and renormalised (:func:`resampled_map`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from ..core.errors import ImageError, SizeError
from ..core.files import Writer
from .io import LoadedImage, image_writer, load_image, resample

# A map whose file name holds one of these words is a tangent-space normal map: RGB holds
# (x, y, z) / 2 + 1/2 of unit vectors (the convention of Substance, Blender and Unreal).
NORMAL_WORDS = ("normal", "nrm")
# A normal map's vectors may be this far from unit length (median), for 8-bit rounding and
# the mip-mapping of some exporters; beyond it the file holds no normals.
NORMAL_TOLERANCE = 0.1
# Memory of a material per map pixel: its planes as float32 read, read at the places, and
# written (measured: 1 and 3 RGB maps of 2048², read, carried and written as PNG, 63 and 46
# bytes per map pixel above the process's own).
MAP_BYTES = 64


@dataclass(frozen=True)
class SurfaceMap:
    """One map of a material: ``values`` (planes, H, W) in [0, 1], colour then alpha when
    the file has one, exactly as the file holds them (never composited)."""

    path: str
    values: torch.Tensor
    depth: int
    alpha: bool
    normal: bool
    sha256: str | None = None

    @property
    def name(self) -> str:
        return Path(self.path).stem

    @property
    def size(self) -> tuple[int, int]:
        return int(self.values.shape[2]), int(self.values.shape[1])

    def pixels(self) -> torch.Tensor:
        """The colour planes (C, H, W)."""
        return self.values[: self.values.shape[0] - self.alpha]

    def alpha_plane(self) -> torch.Tensor | None:
        return self.values[-1] if self.alpha else None

    def with_values(self, values: torch.Tensor) -> SurfaceMap:
        return SurfaceMap(self.path, values, self.depth, self.alpha, self.normal, self.sha256)


def _writer(found: SurfaceMap, path: Path, depth: int) -> Writer:
    return image_writer(found.pixels(), path, depth, found.alpha_plane())


def map_output(output: Path, name: str) -> Path:
    """Where the map ``name`` of a run writing ``output`` goes: OUTPUT-STEM_NAME beside it,
    in the output's format (so an edit's maps are as lossless as its image)."""
    return output.with_name(f"{output.stem}_{name}{output.suffix or '.png'}")


def is_normal_name(path: str) -> bool:
    """Whether a map's file name says it is a normal map."""
    stem = Path(path).stem.lower()
    return any(word in stem for word in NORMAL_WORDS)


def as_map(loaded: LoadedImage, path: str, normal: bool | None = None) -> SurfaceMap:
    """A loaded image as a map: its own values (not composited over white), its alpha."""
    colour = loaded.unblended if loaded.unblended is not None else loaded.pixels
    values = colour if loaded.alpha is None else torch.cat([colour, loaded.alpha[None]])
    normal = is_normal_name(path) if normal is None else normal
    found = SurfaceMap(path, values, loaded.depth, loaded.alpha is not None, normal, loaded.sha256)
    if normal:
        check_normals(found)
    return found


def read_maps(
    paths: tuple[str, ...] | list[str], size: tuple[int, int] | None = None
) -> list[SurfaceMap]:
    """The maps at ``paths``, each checked: an image, a normal map's vectors of unit length,
    no two written to the same name, all of one size, that of the main image when ``size``
    (width, height) is given (else :func:`check_sizes` once it is known)."""
    maps = [as_map(load_image(path), str(Path(path).resolve())) for path in paths]
    names = [found.name for found in maps]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ImageError(f"two maps are named {twice[0]!r}; their outputs would collide")
    if maps:
        check_sizes(maps, size or maps[0].size, "the map " + maps[0].path if not size else "")
    return maps


def check_sizes(maps: list[SurfaceMap], size: tuple[int, int], main: str = "") -> None:
    """Refuse a map whose size is not ``size`` (width, height), the main image's (or, with
    ``main`` naming it, another map's)."""
    for found in maps:
        if found.size != size:
            raise SizeError(
                f"the map {found.path} is {found.size[0]}x{found.size[1]} px and "
                f"{main or 'the image'} {size[0]}x{size[1]}; the maps of a material must be "
                "the same size"
            )


def map_memory(maps: int, width: int, height: int) -> int:
    """Bytes a material's ``maps`` take at ``width``×``height`` (read, carried, written)."""
    return MAP_BYTES * maps * width * height


def normal_vectors(pixels: torch.Tensor) -> torch.Tensor:
    """(3, H, W) colour values → the vectors they encode, (x, y, z) in [-1, 1]."""
    return pixels[:3] * 2 - 1


def normal_colours(vectors: torch.Tensor) -> torch.Tensor:
    """(3, H, W) vectors, renormalised to unit length → colour values in [0, 1]."""
    unit = vectors / vectors.norm(dim=0, keepdim=True).clamp_min(1e-8)
    return (unit + 1) / 2


def normal_error(pixels: torch.Tensor) -> float:
    """Median distance from unit length of the vectors a normal map's colours encode."""
    return float((normal_vectors(pixels).norm(dim=0) - 1).abs().median())


def check_normals(found: SurfaceMap) -> None:
    """Refuse a map named a normal map whose pixels are not unit vectors."""
    colour = found.pixels()
    if colour.shape[0] != 3:
        raise ImageError(f"{found.path} is named a normal map but is grey; a normal map is RGB")
    error = normal_error(colour)
    if error > NORMAL_TOLERANCE:
        raise ImageError(
            f"{found.path} is named a normal map, but its vectors are {error:.2f} from unit "
            f"length at the median (at most {NORMAL_TOLERANCE} is a normal map); rename it if "
            "it holds something else"
        )


def unblended(shown: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """Colour composited over white (``shown``, as texsynth models it) back to the colour
    under ``alpha``: (shown - (1 - alpha)) / alpha, where alpha is not zero."""
    a = alpha[None]
    colour = (shown - (1 - a)) / a.clamp_min(1 / 255)
    return torch.where(a > 0, colour, shown).clamp(0, 1)


def writes_more(image: SurfaceMap, maps: Sequence[SurfaceMap], depth: int | None) -> bool:
    """Whether a run from ``image`` writes more than an 8-bit image alone: other maps, an
    alpha channel, or 16 bits."""
    return bool(maps) or image.alpha or (depth or image.depth) != 8


def made_material(
    colour: torch.Tensor,
    image: SurfaceMap,
    places: torch.Tensor,
    maps: Sequence[SurfaceMap],
    depth: int | None,
    new: torch.Tensor | None = None,
) -> Material | None:
    """What a run writes (None when it is the 8-bit image alone): ``colour`` (C, H, W, as
    modelled: over white) where ``new`` (H, W; None: everywhere), elsewhere ``image``'s own
    values; alpha and ``maps`` read at ``places``."""
    if not writes_more(image, maps, depth):
        return None
    copied = carried(image, places)
    alpha = copied.alpha_plane()
    shown = colour if alpha is None else unblended(colour, alpha)
    if new is not None:
        shown = torch.where(new, shown, copied.pixels())
    values = shown if alpha is None else torch.cat([shown, alpha[None]])
    main = copied.with_values(values)
    return Material(main, tuple(carried(m, places) for m in maps), depth)


def read_at(values: torch.Tensor, places: torch.Tensor) -> torch.Tensor:
    """(planes, H', W') values at (2, H, W) ``places`` (row, column) → (planes, H, W)."""
    rows = places[0].round().long().clamp(0, values.shape[1] - 1)
    cols = places[1].round().long().clamp(0, values.shape[2] - 1)
    return values[:, rows, cols]


def carried(found: SurfaceMap, places: torch.Tensor) -> SurfaceMap:
    """``found`` read at ``places``: every output pixel a copy of one of its pixels, so a
    normal map's vectors are the source's own, unit length as they were."""
    return found.with_values(read_at(found.values, places))


def resampled_map(found: SurfaceMap, height: int, width: int) -> SurfaceMap:
    """``found`` resampled by texsynth's one resampler; a normal map's vectors then
    renormalised to unit length (colours are vectors / 2 + 1/2, so interpolating the colours
    interpolates the vectors: only their length needs mending)."""
    out = resample(found.values, height, width)
    if found.normal:
        out = torch.cat([normal_colours(normal_vectors(out)), out[3:]])
    return found.with_values(out)


@dataclass(frozen=True)
class Material:
    """What a run writes: the main image as its file will hold it (``main``: colour, the
    alpha where the input had one) and the other maps of the surface, each at ``depth``
    bits (None: each at its input's)."""

    main: SurfaceMap
    maps: tuple[SurfaceMap, ...] = ()
    depth: int | None = None

    def depth_of(self, found: SurfaceMap) -> int:
        return self.depth or found.depth

    def writers(self, output: Path) -> list[tuple[Path, Writer]]:
        """The writers of the main image at ``output`` and of each map beside it."""
        files = [(output, _writer(self.main, output, self.depth_of(self.main)))]
        for found in self.maps:
            path = map_output(output, found.name)
            files.append((path, _writer(found, path, self.depth_of(found))))
        return files

    def record(self) -> dict:
        """The sidecar's ``material`` section: depth and alpha of the main image, and of
        each map its name (written as OUTPUT-STEM_NAME beside the image; its file is among
        the sidecar's inputs), depth, alpha and whether it is a normal map."""
        maps = [
            {"name": m.name, "depth": self.depth_of(m), "alpha": m.alpha, "normal": m.normal}
            for m in self.maps
        ]
        return {"depth": self.depth_of(self.main), "alpha": self.main.alpha, "maps": maps}


__all__ = [
    "NORMAL_TOLERANCE",
    "NORMAL_WORDS",
    "Material",
    "SurfaceMap",
    "as_map",
    "carried",
    "check_normals",
    "check_sizes",
    "is_normal_name",
    "made_material",
    "map_memory",
    "map_output",
    "normal_colours",
    "normal_error",
    "normal_vectors",
    "read_at",
    "read_maps",
    "resampled_map",
    "writes_more",
]
