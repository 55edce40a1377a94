"""Which block of the N x N interior each rank of a 2D process grid owns. Pure arithmetic, no
MPI, so that it is tested without mpiexec.

The process grid is MPI.Compute_dims(P, 2) = [rows of ranks, columns of ranks]: Cartesian
dimension 0 splits j (the slow axis), dimension 1 splits i (the contiguous one). Splits may be
uneven: the first n % parts blocks get one cell more.
"""

from __future__ import annotations

from dataclasses import dataclass


def split(n: int, parts: int, index: int) -> tuple[int, int]:
    """(offset, size) of block `index` of `parts` near-equal blocks of n cells."""
    if not 0 <= index < parts <= n:
        raise ValueError(f"cannot make block {index} of {parts} from {n} cells")
    base, extra = divmod(n, parts)
    return index * base + min(index, extra), base + (1 if index < extra else 0)


@dataclass(frozen=True)
class Block:
    """A rank's part of the interior: rows j0 .. j0 + ny - 1, columns i0 .. i0 + nx - 1."""

    j0: int
    i0: int
    ny: int
    nx: int

    @classmethod
    def of(cls, n: int, dims: tuple[int, int], coords: tuple[int, int]) -> "Block":
        """The block at Cartesian `coords` of a `dims` process grid over an n x n interior."""
        j0, ny = split(n, dims[0], coords[0])
        i0, nx = split(n, dims[1], coords[1])
        return cls(j0, i0, ny, nx)

    def local(self, cell: tuple[int, int]) -> tuple[int, int] | None:
        """Index in this block's halo'd array of the global interior `cell` (j, i), if owned."""
        j, i = cell[0] - self.j0, cell[1] - self.i0
        if 0 <= j < self.ny and 0 <= i < self.nx:
            return j + 1, i + 1
        return None

    def slices(self) -> tuple[slice, slice]:
        """Where this block lies in the global interior."""
        return slice(self.j0, self.j0 + self.ny), slice(self.i0, self.i0 + self.nx)
