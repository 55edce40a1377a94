"""The stencil case on P MPI ranks (mpi4py), with any approach that has a NumPy-array step.

    mpiexec --oversubscribe --allow-run-as-root -n 4 \\
        python bench/approaches/mpi_driver.py --approach numpy --n 480 --steps 50

A 2D Cartesian process grid (MPI.Compute_dims + Create_cart) splits the interior, unevenly where
N does not divide (decomposition.py). Each step exchanges one halo cell with the four
neighbours (Irecv/Isend, columns as a strided vector datatype, no copies), computes the block,
and adds the sources this rank owns. Rank 0 gathers the final field and reports as
run_approach.py does; the field is the serial one bit for bit, for any P.

Open MPI binds each rank to one core when P <= 2, so a threaded approach (--threads > 1)
needs `mpiexec --bind-to none` (or a binding with that many cores per rank).
"""

from __future__ import annotations

import sys
import traceback

import numpy as np
from mpi4py import MPI

import approaches
from case import Prepare, sources
from decomposition import Block


class Halo:
    """The one-cell halo exchange of a (ny + 2, nx + 2) block with its four neighbours."""

    def __init__(self, cart: MPI.Cartcomm, shape: tuple[int, int]):
        self.cart = cart
        self.rows, self.cols = shape
        self.below, self.above = cart.Shift(0, 1)  # neighbours at j - 1 and j + 1
        self.left, self.right = cart.Shift(1, 1)   # neighbours at i - 1 and i + 1
        # One interior column: ny doubles, a row apart.
        self.column = MPI.DOUBLE.Create_vector(self.rows - 2, 1, self.cols).Commit()

    def free(self) -> None:
        """Releases the column datatype."""
        self.column.Free()

    def exchange(self, a: np.ndarray) -> None:
        """Fills a's halo from the neighbours' edge cells; a physical boundary (PROC_NULL)
        receives nothing, so its halo keeps its 0."""
        flat = a.reshape(-1)  # a view: a is C-contiguous

        def column(i: int) -> list:
            return [flat[self.cols + i:], 1, self.column]  # starts at row 1, column i

        last_row, last_col = self.rows - 2, self.cols - 2
        cart = self.cart
        MPI.Request.Waitall([
            cart.Irecv(a[0, 1:-1], self.below, tag=0),
            cart.Irecv(a[last_row + 1, 1:-1], self.above, tag=1),
            cart.Irecv(column(0), self.left, tag=2),
            cart.Irecv(column(last_col + 1), self.right, tag=3),
            cart.Isend(a[last_row, 1:-1], self.above, tag=0),
            cart.Isend(a[1, 1:-1], self.below, tag=1),
            cart.Isend(column(last_col), self.right, tag=2),
            cart.Isend(column(1), self.left, tag=3),
        ])


def run(prepare: Prepare, n: int, steps: int, energy: float, threads: int = 1,
        comm: MPI.Comm = MPI.COMM_WORLD) -> dict | None:
    """Runs the case on comm's ranks; rank 0 gets field, seconds (the slowest rank's time
    loop), compile_seconds and dims; the other ranks get None."""
    dims = MPI.Compute_dims(comm.size, 2)
    if min(dims) > n:
        raise ValueError(f"n = {n} is too small for a {dims[0]} x {dims[1]} process grid")
    cart = comm.Create_cart(dims, periods=[False, False], reorder=True)
    block = Block.of(n, (dims[0], dims[1]), tuple(cart.Get_coords(cart.rank)))

    # Rank 0 builds compiled kernels first; the others then find them in the cache.
    if cart.rank == 0:
        step, compile_seconds = prepare(threads)
    cart.Barrier()
    if cart.rank != 0:
        step, compile_seconds = prepare(threads)

    aold = np.zeros((block.ny + 2, block.nx + 2))
    anew = np.zeros_like(aold)
    cells = [local for local in map(block.local, sources(n)) if local is not None]
    halo = Halo(cart, aold.shape)

    cart.Barrier()
    start = MPI.Wtime()
    for _ in range(steps):
        halo.exchange(aold)
        step(aold, anew)
        for cell in cells:
            anew[cell] += energy
        aold, anew = anew, aold
    seconds = MPI.Wtime() - start
    halo.free()

    seconds = cart.reduce(seconds, op=MPI.MAX, root=0)
    compile_seconds = cart.reduce(compile_seconds, op=MPI.MAX, root=0)
    field = gather(cart, n, dims, block, aold[1:-1, 1:-1])
    cart.Free()
    if field is None:
        return None
    return {"field": field, "seconds": seconds, "compile_seconds": compile_seconds,
            "dims": list(dims)}


def gather(cart: MPI.Cartcomm, n: int, dims: list[int], block: Block,
           interior: np.ndarray) -> np.ndarray | None:
    """The global n x n field on rank 0 (None elsewhere), from every rank's block interior."""
    blocks = [Block.of(n, (dims[0], dims[1]), tuple(cart.Get_coords(r)))
              for r in range(cart.size)]
    counts = [b.ny * b.nx for b in blocks]
    received = np.empty(n * n) if cart.rank == 0 else None
    cart.Gatherv(np.ascontiguousarray(interior),
                 [received, counts, None, MPI.DOUBLE] if cart.rank == 0 else None, root=0)
    if cart.rank != 0:
        return None
    field = np.empty((n, n))
    offset = 0
    for b, count in zip(blocks, counts):
        field[b.slices()] = received[offset:offset + count].reshape(b.ny, b.nx)
        offset += count
    return field


def main(argv: list[str] | None = None) -> int:
    parser = approaches.parser(__doc__.splitlines()[0], mpi=True)
    args = parser.parse_args(argv)
    approach = approaches.get(args.approach)
    try:
        result = run(approach.preparer(), args.n, args.steps, args.energy, args.threads)
    except Exception:
        # One rank's error would leave the others waiting in a collective for ever.
        traceback.print_exc()
        sys.stderr.flush()
        MPI.COMM_WORLD.Abort(1)
    if result is not None:
        approaches.report(args, result, ranks=MPI.COMM_WORLD.size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
