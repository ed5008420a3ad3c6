"""The one way texsynth writes a file: complete or not at all, and never over one unasked.

Every file texsynth writes (images, sidecars, statistics, snapshots, index files, report
pages, thumbnails, figures) goes through :func:`write_files`:

1. each file is written to a temporary ``.NAME.*.tmp`` beside its destination;
2. a failure while writing (disk full, file-size limit, permissions) removes the
   temporaries and raises :class:`~texsynth.core.errors.OutputError` naming the file and the
   reason, so no partial file is ever left under the real name;
3. the temporaries are moved into place. Without ``overwrite`` the move cannot replace
   anything, even a file that appeared after the run's start check: it is a
   ``renameat2(RENAME_NOREPLACE)`` where the kernel has one, else a hard link, else an
   exclusive create. When a destination is taken, the whole group goes to the first free
   numbered names (``out-1.png`` with ``out-1.json``) and :class:`OutputAppeared` says so:
   the computed result is never lost.

:func:`check_new` is the start check that refuses, before any work, what would fail at
the end.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from .errors import OutputError

Writer = Callable[[Path], None]  # writes the file's whole content to the path it is given

# Write failures that are the environment's, not a bug: torch.save reports a full disk or
# a file-size limit as RuntimeError ("PytorchStreamWriter failed writing file").
WRITE_FAILURES = (OSError, RuntimeError)
# What a full disk, a file-size limit or a read-only folder raises from any write.
DISK_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EIO}


class OutputAppeared(OutputError):
    """A destination was taken while the run went on; the result was kept elsewhere."""

    def __init__(self, taken: Path, kept: list[Path]) -> None:
        self.taken, self.kept = taken, kept
        super().__init__(
            f"{taken} appeared while texsynth ran and was left as it is; the result is "
            f"kept as {', '.join(map(str, kept))}"
        )


def folder_of(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


def reason(exc: BaseException) -> str:
    """An OS error's reason in words (``No space left on device``), else its message."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower() if exc.strerror[1:].islower() else exc.strerror
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def check_new(path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Refuse, before any work, an output that cannot or must not be written."""
    p = Path(path)
    parent = folder_of(p)
    if not parent.exists():
        raise OutputError(f"output directory does not exist: {parent}")
    if not parent.is_dir():
        raise OutputError(f"output directory is not a directory: {parent}")
    if p.is_dir():
        raise OutputError(f"output path is a directory: {p}")
    if (p.exists() or p.is_symlink()) and not overwrite:
        raise OutputError(f"output file exists: {p} (pass --overwrite to replace it)")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"output directory is not writable: {parent}")
    return p


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except (OSError, RuntimeError):  # a symbolic-link loop: not a file the run can read
        return False


def check_not_inputs(
    outputs: Sequence[str | os.PathLike], inputs: Sequence[str | os.PathLike | None]
) -> None:
    """Refuse, with or without ``--overwrite``, an output that is one of the run's own input
    files (an image, a mask, the sidecar replayed): writing it would destroy what the run
    reads, and its sidecar would record a file that no longer exists."""
    read = [Path(i) for i in inputs if i and not str(i).startswith(("builtin:", "<"))]
    for output in map(Path, outputs):
        for source in read:
            if _same_file(output, source):
                raise OutputError(
                    f"{output} is one of this run's inputs ({source}); texsynth never writes "
                    "over its own input: choose another output name"
                )


def check_output_folder(folder: Path) -> None:
    """Refuse, before any work, an output folder that is a file or that cannot be made or
    written (its nearest existing ancestor is not a writable folder)."""
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder} exists and is not a folder")
    existing = next(p for p in (folder, *folder.absolute().parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"output directory is not writable: {existing}")


def make_folder(folder: Path) -> bool:
    """Make an output folder (and its parents); whether it was made now, so that a failed
    run may remove it again."""
    if folder.is_dir():
        return False
    try:
        folder.mkdir(parents=True)
    except OSError as exc:
        raise OutputError(f"cannot make {folder}: {reason(exc)}") from None
    return True


def sidecar_path(image: str | os.PathLike) -> Path:
    """The JSON sidecar beside an image: ``out.png`` → ``out.json``."""
    p = Path(image)
    return p.with_suffix(".json") if p.suffix else Path(f"{p}.json")


def check_replaceable(path: Path, ours: Callable[[Path], bool], overwrite: bool) -> Path:
    """Refuse, before any work, a file at ``path`` that texsynth did not write (``ours``
    tells, from its content) unless ``overwrite``: texsynth's own index or page is
    replaced, anyone else's never unasked."""
    if path.is_dir():
        raise OutputError(f"{path} is a folder")
    if path.exists() and not overwrite and not ours(path):
        raise OutputError(
            f"{path} exists and was not written by texsynth (pass --overwrite to replace it)"
        )
    return path


def current_umask() -> int:
    """The process's file-creation mask (reading it means setting it, so set it back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def _temporary(dest: Path) -> Iterator[Path]:
    """A fresh temporary file beside ``dest``, removed on the way out unless moved away."""
    try:
        fd, name = tempfile.mkstemp(dir=folder_of(dest), prefix=f".{dest.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputError(f"cannot write {dest}: {reason(exc)}") from None
    os.close(fd)
    tmp = Path(name)
    try:
        # mkstemp creates the file private (0600); give it what a plain open() would.
        tmp.chmod(0o666 & ~current_umask())
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


def _libc_renameat2() -> Callable[..., int] | None:
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return None
    function.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    return function


_RENAMEAT2 = _libc_renameat2()
_AT_FDCWD, _RENAME_NOREPLACE = -100, 1
# Errors that say "this file system cannot do that", after which the next way is tried.
_UNSUPPORTED = {errno.ENOSYS, errno.EINVAL, errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP}


def _rename_no_replace(tmp: Path, dest: Path) -> bool:
    """Move ``tmp`` to ``dest`` unless ``dest`` exists (FileExistsError); False: unsupported."""
    if _RENAMEAT2 is None:
        return False
    status = _RENAMEAT2(
        _AT_FDCWD, os.fsencode(tmp), _AT_FDCWD, os.fsencode(dest), _RENAME_NOREPLACE
    )
    if status == 0:
        return True
    code = ctypes.get_errno()
    if code in _UNSUPPORTED:
        return False
    raise OSError(code, os.strerror(code), str(dest))


def _place_new(tmp: Path, dest: Path) -> None:
    """Move ``tmp`` to ``dest`` without replacing anything; FileExistsError if taken."""
    if _rename_no_replace(tmp, dest):
        return
    try:
        os.link(tmp, dest)  # fails with EEXIST, atomically, if dest exists
    except OSError as exc:
        if exc.errno not in _UNSUPPORTED:
            raise
        with open(tmp, "rb") as src, open(dest, "xb") as out:  # no hard links here
            shutil.copyfileobj(src, out)
    tmp.unlink()


def _numbered(dest: Path, number: int) -> Path:
    return dest.with_name(f"{dest.stem}-{number}{dest.suffix}")


def _place_group(staged: Sequence[tuple[Path, Path]]) -> None:
    """Place every (tmp, dest), none replacing; if one is taken, undo the others."""
    placed: list[tuple[Path, Path]] = []
    try:
        for tmp, dest in staged:
            _place_new(tmp, dest)
            placed.append((tmp, dest))
    except BaseException:
        # Ours, placed a moment ago: back to the temporary, so that the group lands whole
        # or not at all, and can be tried again under other names.
        for tmp, dest in placed:
            os.replace(dest, tmp)
        raise


def _place(staged: Sequence[tuple[Path, Path]], overwrite: bool) -> list[Path]:
    """Move the temporaries into place; the destinations actually used."""
    dests = [dest for _, dest in staged]
    if overwrite:
        for dest in dests:
            if dest.is_dir() and not dest.is_symlink():
                raise OutputError(f"cannot write {dest}: it is a directory")
        for tmp, dest in staged:
            os.replace(tmp, dest)
        return dests
    taken: Path | None = None
    for number in range(0, 1000):
        group = [(tmp, dest if number == 0 else _numbered(dest, number)) for tmp, dest in staged]
        try:
            _place_group(group)
        except FileExistsError as exc:
            taken = taken or Path(exc.filename or dests[0])
            continue
        used = [dest for _, dest in group]
        if number:
            raise OutputAppeared(taken or dests[0], used)
        return used
    raise OutputError(f"cannot write {dests[0]}: no free name beside it")


def _place_told(staged: Sequence[tuple[Path, Path]], overwrite: bool) -> list[Path]:
    """:func:`_place`, an OS error told as one line naming the file."""
    try:
        return _place(staged, overwrite)
    except OutputError:
        raise
    except OSError as exc:
        raise OutputError(f"cannot write {exc.filename or staged[0][1]}: {reason(exc)}") from None


def write_files(
    files: Sequence[tuple[str | os.PathLike, Writer]], overwrite: bool = False
) -> list[Path]:
    """Write a group of files (an image and its sidecar) that land together or not at all.

    Each writer fills the temporary path it is given. Returns the paths written; raises
    :class:`OutputAppeared` (after keeping the result under numbered names) when a
    destination was taken and ``overwrite`` is off, and :class:`OutputError` when writing
    fails.
    """
    dests = [Path(path) for path, _ in files]
    with contextlib.ExitStack() as stack:
        staged = []
        for dest, (_, write) in zip(dests, files, strict=True):
            tmp = stack.enter_context(_temporary(dest))
            try:
                write(tmp)
            except WRITE_FAILURES as exc:
                raise OutputError(f"cannot write {dest}: {reason(exc)}") from None
            staged.append((tmp, dest))
        return _place_told(staged, overwrite)


def place(tmp: Path, dest: str | os.PathLike, overwrite: bool = False) -> Path:
    """Move a finished file (in ``dest``'s folder) into place as :func:`write_files` does."""
    return _place_told([(Path(tmp), Path(dest))], overwrite)[0]


def write_file(path: str | os.PathLike, write: Writer, overwrite: bool = False) -> Path:
    """One file by :func:`write_files`; the path written."""
    return write_files([(path, write)], overwrite)[0]


def text_writer(text: str) -> Writer:
    """A :data:`Writer` of ``text`` as UTF-8 (for a file of a :func:`write_files` group)."""
    return lambda tmp: tmp.write_text(text, encoding="utf-8")


def write_text(text: str, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """A UTF-8 text file by :func:`write_files`."""
    return write_file(path, text_writer(text), overwrite)


def write_bytes(data: bytes, path: str | os.PathLike, overwrite: bool = False) -> Path:
    return write_file(path, lambda tmp: tmp.write_bytes(data), overwrite)


def merge_folder(scratch: Path, target: Path) -> Path:
    """Move every file of the finished folder ``scratch`` into the folder ``target``,
    replacing only files of the same names (texsynth's own outputs); whatever else
    ``target`` holds is kept. ``scratch`` is removed."""
    for item in sorted(scratch.iterdir()):
        dest = target / item.name
        if item.is_dir() and dest.is_dir() and not dest.is_symlink():
            merge_folder(item, dest)
            continue
        if dest.is_dir() and not dest.is_symlink():
            raise OutputError(f"cannot write {dest}: it is a folder")
        try:
            os.replace(item, dest)
        except OSError as exc:
            raise OutputError(f"cannot write {dest}: {reason(exc)}") from None
    scratch.rmdir()
    return target


def place_folder(scratch: Path, target: Path, overwrite: bool = False) -> Path:
    """Move a finished folder into place. With ``overwrite`` an existing folder keeps what
    it holds and only the files of the same names are replaced (:func:`merge_folder`: a
    folder is never emptied); without, never over anything but an empty folder, and a
    target that appeared meanwhile keeps the result under a numbered name."""
    if overwrite and target.is_dir() and not target.is_symlink():
        return merge_folder(scratch, target)
    if overwrite and target.exists():
        raise OutputError(f"{target} is a file, not a folder; texsynth does not replace it")
    with contextlib.suppress(OSError):
        target.rmdir()  # an empty folder holds nothing to lose
    for number in range(0, 1000):
        dest = target if number == 0 else _numbered(target, number)
        try:
            if not _rename_no_replace(scratch, dest):
                if dest.exists() or dest.is_symlink():
                    raise FileExistsError(errno.EEXIST, "exists", str(dest))
                os.rename(scratch, dest)
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno != errno.ENOTEMPTY:
                raise OutputError(f"cannot write {dest}: {reason(exc)}") from None
            continue
        if number:
            raise OutputAppeared(target, [dest])
        return dest
    raise OutputError(f"cannot write {target}: no free name beside it")


def torch_bytes(obj: object) -> bytes:
    """``torch.save``'s file in memory: written by :func:`write_bytes`, a full disk is then
    told as the OS tells it (torch's own writer reports "unexpected pos 1664 vs 1558")."""
    import io

    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def remove_stale_temporaries(folder: Path) -> None:
    """Remove what a run killed while writing left in ``folder`` (``.NAME.*.tmp``)."""
    for tmp in folder.glob(".*.tmp"):
        tmp.unlink(missing_ok=True)
