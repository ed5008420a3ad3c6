"""Texture statistics: Gram matrices of feature maps, and their storage.

For a layer with N feature maps of M positions, F is the N×M matrix of responses and the
Gram matrix G = F Fᵀ / M holds the spatially averaged co-activations of every pair of
maps. Averaging over positions is what makes the description stationary (a *texture*) and
independent of the image size. G is symmetric, so a layer contributes N(N+1)/2 numbers.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..core.errors import TexsynthError
from ..core.files import torch_bytes, write_bytes
from ..image.io import LoadedImage

FORMAT_VERSION = 1


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """Gram matrices of a batch of feature maps, normalised by the number of positions.

    Args:
        features: (B, N, H, W) or (N, H, W), contiguous or channels-last.
    Returns:
        (B, N, N) or (N, N): ``F Fᵀ / (H·W)``.
    """
    squeeze = features.dim() == 3
    if squeeze:
        features = features.unsqueeze(0)
    b, n, h, w = features.shape
    if _channels_last(features):
        # Positions × maps is a view of channels-last memory, and so is its gradient: it
        # adds to the convolutions' channels-last gradient without a reorder (reorders and
        # strided adds were 40% of an evaluation at 1024², torch.profiler).
        rows = features.permute(0, 2, 3, 1).reshape(b, h * w, n)
        gram = _SymmetricGram.apply(rows, True)
    else:
        gram = _SymmetricGram.apply(features.reshape(b, n, h * w), False)
    gram = gram / (h * w)
    return gram[0] if squeeze else gram


def weighted_gram_matrix(features: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Gram matrices over some positions only: Σ_p w(p) F(p) F(p)ᵀ / Σ_p w(p).

    Args:
        features: (B, N, H, W).
        weights: (H, W), non-negative (e.g. 1 where a position counts, 0 where not).
    Returns:
        (B, N, N), in float32 or the features' wider precision.
    """
    f = features.flatten(2).to(torch.promote_types(features.dtype, torch.float32))
    w = weights.flatten().to(f)
    return torch.bmm(f * w, f.transpose(1, 2)) / w.sum().clamp_min(1e-12)


def tile_gram_matrices(
    features: torch.Tensor, tiles: tuple[int, int], dtype: torch.dtype | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gram matrices of a grid of tiles over each feature map.

    Args:
        features: (B, N, H, W), contiguous or channels-last.
        tiles: (rows, columns): each tile has H // rows × W // columns positions, from
            the map's top left; the positions past the last whole tile form partial tiles.
        dtype: the precision of the products (default the features').
    Returns:
        (B, T, N, N) Gram matrices, tile by tile in row-major order, each divided by its
        own number of positions, and (T,) each tile's share of the positions (summing to
        1: the shares weigh the Gram matrices back to the whole map's).
    """
    b, n, h, w = features.shape
    th, tw = h // tiles[0], w // tiles[1]
    if th < 1 or tw < 1:
        raise ValueError(f"a {h}x{w} map has no room for {tiles[0]}x{tiles[1]} tiles")
    rows, cols = -(-h // th), -(-w // tw)
    grid = features.permute(0, 2, 3, 1)
    pad = (0, 0, 0, cols * tw - w, 0, rows * th - h)
    if any(pad):  # zeros add nothing to a tile's sums
        grid = torch.nn.functional.pad(grid, pad)
    grid = grid.reshape(b, rows, th, cols, tw, n).transpose(2, 3)
    # One copy puts each tile's positions × maps together (and casts): the same single
    # copy that a bfloat16 map's cast to float32 costs for the whole-image Gram matrix.
    flat = grid.to(dtype or features.dtype, memory_format=torch.contiguous_format)
    gram = _SymmetricGram.apply(flat.reshape(b * rows * cols, th * tw, n), True)
    counts = _overlaps(th, rows, h)[:, None] * _overlaps(tw, cols, w)[None, :]
    counts = counts.flatten().to(gram)
    gram = gram.view(b, rows * cols, n, n) / counts.clamp_min(1).view(1, -1, 1, 1)
    return gram, counts / (h * w)


def _overlaps(size: int, count: int, extent: int) -> torch.Tensor:
    """Positions of [0, extent) in each of ``count`` tiles of ``size`` from 0."""
    begins = torch.arange(count) * size
    return (begins + size).clamp(max=extent) - begins


def _channels_last(features: torch.Tensor) -> bool:
    return not features.is_contiguous() and features.is_contiguous(
        memory_format=torch.channels_last
    )


class _SymmetricGram(torch.autograd.Function):
    """F Fᵀ with a backward pass of one matrix product, (dG + dGᵀ) F, instead of autograd's
    two: for the 1,024-map multi-scale network that is a third of the Gram's cost.

    ``flat`` is F, maps × positions, or Fᵀ when ``positions_first``; the gradient comes
    back in the same layout."""

    @staticmethod
    def forward(ctx, flat: torch.Tensor, positions_first: bool) -> torch.Tensor:
        ctx.save_for_backward(flat)
        ctx.positions_first = positions_first
        if positions_first:
            return torch.bmm(flat.transpose(1, 2), flat)
        return torch.bmm(flat, flat.transpose(1, 2))

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        (flat,) = ctx.saved_tensors
        symmetric = grad + grad.transpose(1, 2)
        if ctx.positions_first:
            return torch.bmm(flat, symmetric), None
        return torch.bmm(symmetric, flat), None


def pca_projection(features: torch.Tensor, k: int) -> torch.Tensor:
    """The first ``k`` principal directions of one image's feature maps, as a (k, N) matrix.

    PCA (scikit-learn) over positions: each of the M positions is a sample of N channels.
    Its rows are orthonormal. A source has at most M − 1 directions of non-zero variance
    (a 128² image has only 64 positions at pool4); when ``k`` asks for more, the basis is
    completed with orthonormal directions in which the source does not vary, so the reduced
    model keeps exactly k(k+1)/2 numbers and still demands what the source shows: nothing
    there.
    """
    from sklearn.decomposition import PCA

    n = features.shape[0]
    if not 1 <= k <= n:
        raise TexsynthError(f"cannot keep {k} components of a layer with {n} maps")
    samples = features.reshape(n, -1).T.double().cpu().numpy()  # (M, N)
    available = min(k, samples.shape[0] - 1) if samples.shape[0] > 1 else 0
    rows = torch.zeros(0, n, dtype=torch.float64)
    if available > 0:
        pca = PCA(n_components=available, svd_solver="full").fit(samples)
        rows = torch.from_numpy(pca.components_)
    if rows.shape[0] < k:
        # QR of [rows; identity] gives an orthonormal basis whose first rows span `rows`.
        q, _ = torch.linalg.qr(torch.cat([rows, torch.eye(n, dtype=torch.float64)]).T)
        rows = torch.cat([rows, q[:, rows.shape[0] : k].T])
    return rows.float()


def project_features(features: torch.Tensor, projection: torch.Tensor) -> torch.Tensor:
    """(B, N, H, W) maps onto the rows of a (k, N) projection: (B, k, H, W)."""
    return torch.einsum("kn,bnhw->bkhw", projection.to(features.dtype), features)


def gram_parameter_count(channels: int) -> int:
    """Unique entries of an N×N symmetric Gram matrix: N(N+1)/2."""
    return channels * (channels + 1) // 2


@dataclass
class TextureStatistics:
    """The Gram matrices that describe one texture, plus what is needed to synthesise it.

    Saved to and loaded from a small file so a texture model can be shared without the
    image it came from. ``meta`` records how the statistics were computed (network, pooling,
    weights hash, source name and size, pixel range).
    """

    grams: dict[str, torch.Tensor]
    pixel_min: torch.Tensor  # (C,) per-channel minimum of the source, C = 1 or 3
    pixel_max: torch.Tensor
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def layers(self) -> list[str]:
        return list(self.grams)

    @property
    def grayscale(self) -> bool:
        return self.pixel_min.numel() == 1

    @property
    def parameter_count(self) -> int:
        return sum(gram_parameter_count(g.shape[-1]) for g in self.grams.values())

    def to(self, device: torch.device | str) -> TextureStatistics:
        return TextureStatistics(
            {k: g.to(device) for k, g in self.grams.items()},
            self.pixel_min,
            self.pixel_max,
            dict(self.meta),
        )

    def subset(self, layers: list[str]) -> TextureStatistics:
        missing = [name for name in layers if name not in self.grams]
        if missing:
            raise TexsynthError(
                f"these statistics have no layer {', '.join(missing)} "
                f"(they hold {', '.join(self.layers)})"
            )
        return TextureStatistics(
            {k: self.grams[k] for k in layers}, self.pixel_min, self.pixel_max, dict(self.meta)
        )

    def save(self, path: str | os.PathLike, overwrite: bool = True) -> Path:
        payload = {
            "format": "texsynth-statistics",
            "version": FORMAT_VERSION,
            "grams": {k: g.detach().cpu() for k, g in self.grams.items()},
            "pixel_min": self.pixel_min.cpu(),
            "pixel_max": self.pixel_max.cpu(),
            "meta": _plain(self.meta),
        }
        return write_bytes(torch_bytes(payload), path, overwrite)

    @classmethod
    def load(cls, path: str | os.PathLike) -> TextureStatistics:
        import zipfile

        p = Path(path)
        if not zipfile.is_zipfile(p):
            raise TexsynthError(f"{p} is not a texsynth statistics file (truncated or other)")
        try:
            payload = torch.load(p, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise TexsynthError(
                f"cannot read statistics file {p}: it is damaged or not texsynth's "
                f"({type(exc).__name__})"
            ) from None
        if not isinstance(payload, dict) or payload.get("format") != "texsynth-statistics":
            raise TexsynthError(f"{p} is not a texsynth statistics file")
        if payload.get("version") != FORMAT_VERSION:
            raise TexsynthError(
                f"{p} has statistics format {payload.get('version')}, expected {FORMAT_VERSION}"
            )
        return cls(*_checked_payload(payload, p))


def _checked_payload(payload: dict[str, Any], path: Path) -> tuple[Any, ...]:
    """The file's parts, once each has the type and shape a statistics file's must have."""
    grams, lo, hi, meta = (payload.get(k) for k in ("grams", "pixel_min", "pixel_max", "meta"))
    if not isinstance(grams, dict) or not grams:
        raise TexsynthError(f"{path}: the statistics file holds no Gram matrices")
    for name, gram in grams.items():
        if not isinstance(gram, torch.Tensor) or gram.dim() != 2 or gram.shape[0] != gram.shape[1]:
            shape = tuple(gram.shape) if isinstance(gram, torch.Tensor) else type(gram).__name__
            raise TexsynthError(f"{path}: the Gram matrix of {name} is not square ({shape})")
        if not torch.isfinite(gram).all():
            raise TexsynthError(f"{path}: the Gram matrix of {name} holds NaN or infinity")
    ranges = [r for r in (lo, hi) if isinstance(r, torch.Tensor) and r.numel() in (1, 3)]
    if len(ranges) != 2 or lo.shape != hi.shape:
        raise TexsynthError(f"{path}: the pixel range is not one or three numbers per bound")
    return grams, lo, hi, meta if isinstance(meta, dict) else {}


def pool_statistics(
    stats: list[TextureStatistics], weights: Sequence[float] | None = None
) -> TextureStatistics:
    """Statistics of several examples of one texture: the mean of their Gram matrices
    (each example weighs the same, whatever its size) and the union of their pixel ranges.
    With ``weights`` (summing to 1), the weighted mean: a morph between textures."""
    if not stats:
        raise TexsynthError("pooling needs at least one set of statistics")
    layers = stats[0].layers
    if any(s.layers != layers for s in stats):
        raise TexsynthError("pooled statistics must share their layers")
    if len({s.pixel_min.numel() for s in stats}) != 1:
        raise TexsynthError("pooled statistics must all be grey or all colour")
    grams = {k: torch.stack([s.grams[k] for s in stats]) for k in layers}
    if weights is None:
        grams = {k: g.mean(0) for k, g in grams.items()}
    else:
        share = torch.tensor(weights, dtype=torch.float64)
        grams = {
            k: torch.einsum("s,s...->...", share, g.double()).to(g.dtype) for k, g in grams.items()
        }
    lo = torch.stack([s.pixel_min for s in stats]).min(0).values
    hi = torch.stack([s.pixel_max for s in stats]).max(0).values
    meta = dict(stats[0].meta)
    meta["source"] = " + ".join(str(s.meta.get("source")) for s in stats)
    meta["pooled_from"] = len(stats)
    if weights is not None:
        meta["weights"] = [float(w) for w in weights]
    return TextureStatistics(grams, lo, hi, meta)


class StatisticsCache:
    """Statistics of source images, computed once per image and model, then reused.

    A batch of syntheses of one source (many seeds, presets or sizes) needs the same Gram
    matrices again and again, at every coarse-to-fine scale. Entries are keyed by a digest
    of the pixels and the model's :attr:`~texsynth.TextureModel.signature`, so a copy of
    the image or an equal model built elsewhere finds them, and a cache can be filled in one
    process and shipped (pickled) to others.
    """

    def __init__(self, entries: Mapping[str, TextureStatistics] | None = None) -> None:
        self.entries: dict[str, TextureStatistics] = dict(entries or {})
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self.entries)

    @staticmethod
    def key(model: Any, pixels: torch.Tensor) -> str:
        data = pixels.detach().to("cpu", torch.float32).contiguous()
        digest = hashlib.sha256(str(tuple(data.shape)).encode())
        digest.update(data.numpy().tobytes())
        digest.update(repr(model.signature).encode())
        return digest.hexdigest()

    def statistics(self, model: Any, image: LoadedImage | torch.Tensor) -> TextureStatistics:
        """``model.statistics(image)``, from the cache when it was computed before."""
        pixels = image.pixels if isinstance(image, LoadedImage) else image
        key = self.key(model, pixels)
        if key in self.entries:
            self.hits += 1
            return self.entries[key]
        self.misses += 1
        stats = model.statistics(image)
        self.entries[key] = stats.to("cpu")
        return stats


STATISTICS_SUFFIXES = (".pt", ".pth", ".texstats")


def is_statistics_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` names a saved :class:`TextureStatistics` (by its extension: a
    damaged one is then reported as a damaged statistics file, not as a bad image)."""
    p = Path(path)
    return p.suffix.lower() in STATISTICS_SUFFIXES and p.is_file()


def _plain(value: Any) -> Any:
    """Restrict metadata to types that ``torch.load(weights_only=True)`` accepts."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
