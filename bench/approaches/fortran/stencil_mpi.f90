! The comparison study's case with MPI, Fortran 90 plus the mpi_f08 module: 2D heat diffusion,
! 5-point stencil, Dirichlet 0 halo, three point sources, on any number of ranks.
!
! The interior is split over a 2D Cartesian process grid from MPI_Dims_create and
! MPI_Cart_create: grid dimension 1 splits j (the slow axis), dimension 2 splits i (the
! contiguous one), as bench/approaches/mpi_driver.py does. Any rank count and any N work: where
! a dimension does not divide N, the first mod(N, parts) blocks get one cell more. Each step
! exchanges a one-cell halo with the four neighbours (MPI_Sendrecv; a column is a strided
! MPI_Type_vector, a row is contiguous), sweeps the block, and adds each source on the rank
! that owns it. Every cell sees the same float64 operations in the same order as in
! stencil.f90, so the final field is stencil.f90's bit for bit on every rank count.
!
! usage: mpiexec -n P calor_fortran_stencil_mpi [N [steps [energy [output.raw]]]]
!   rank 0 prints: heat, seconds (the slowest rank's time loop, MPI_Wtime), MLUP/s, ranks and
!   the process grid; with output.raw it gathers the N*N interior and writes it as stencil.f90
!   does (i fastest, raw float64).
program stencil_mpi
  use, intrinsic :: iso_fortran_env, only: real64, error_unit
  use mpi_f08
  implicit none
  integer :: n, niters, iter, k, nargs
  integer :: sx(3), sy(3)
  real(real64) :: energy, heat, local_heat
  real(real64), allocatable :: a(:,:), b(:,:)
  real(real64) :: t0, t1, seconds, slowest
  character(len=512) :: arg, out

  ! The process grid and this rank's block: interior cells i0+1 .. i0+nx, j0+1 .. j0+ny.
  type(MPI_Comm) :: cart
  type(MPI_Datatype) :: column
  integer :: nprocs, rank, dims(2), coords(2)
  integer :: i0, j0, nx, ny
  integer :: below, above, left, right  ! neighbours at j - 1, j + 1, i - 1, i + 1
  integer :: nsources, own_i(3), own_j(3)

  call MPI_Init()
  call MPI_Comm_size(MPI_COMM_WORLD, nprocs)

  n = 4800
  niters = 500
  energy = 1.0_real64
  out = ''
  nargs = command_argument_count()
  if (nargs >= 1) then
    call get_command_argument(1, arg)
    read (arg, *) n
  end if
  if (nargs >= 2) then
    call get_command_argument(2, arg)
    read (arg, *) niters
  end if
  if (nargs >= 3) then
    call get_command_argument(3, arg)
    read (arg, *) energy
  end if
  if (nargs >= 4) call get_command_argument(4, out)

  ! The process grid: MPI chooses the factors (as balanced as it can), and may renumber ranks.
  dims = 0
  call MPI_Dims_create(nprocs, 2, dims)
  if (n < 3 .or. minval(dims) > n) then
    call MPI_Comm_rank(MPI_COMM_WORLD, rank)
    if (rank == 0) write (error_unit, '(a, i0, a, i0, a, i0, a)') 'stencil_mpi: n = ', n, &
      ' is too small for a ', dims(1), ' x ', dims(2), ' process grid (or below 3)'
    call MPI_Abort(MPI_COMM_WORLD, 2)
  end if
  call MPI_Cart_create(MPI_COMM_WORLD, 2, dims, [.false., .false.], .true., cart)
  call MPI_Comm_rank(cart, rank)
  call MPI_Cart_coords(cart, rank, 2, coords)
  call split(n, dims(1), coords(1), j0, ny)
  call split(n, dims(2), coords(2), i0, nx)
  call MPI_Cart_shift(cart, 0, 1, below, above)
  call MPI_Cart_shift(cart, 1, 1, left, right)

  ! One interior column of a block: ny doubles, one row (nx + 2 doubles) apart.
  call MPI_Type_vector(ny, 1, nx + 2, MPI_DOUBLE_PRECISION, column)
  call MPI_Type_commit(column)

  ! Sources (1-based interior coordinates, integer division after the multiplication); each
  ! is added by the one rank whose block holds it, at its local index.
  sx = (/ n / 2, n / 3, n * 4 / 5 /)
  sy = (/ n / 2, n / 3, n * 8 / 9 /)
  nsources = 0
  do k = 1, 3
    if (sx(k) > i0 .and. sx(k) <= i0 + nx .and. sy(k) > j0 .and. sy(k) <= j0 + ny) then
      nsources = nsources + 1
      own_i(nsources) = sx(k) - i0
      own_j(nsources) = sy(k) - j0
    end if
  end do

  allocate (a(0:nx + 1, 0:ny + 1), b(0:nx + 1, 0:ny + 1))
  a = 0.0_real64
  b = 0.0_real64

  ! The time loop, alternating the roles of a and b: after an odd number of steps the field
  ! is in b, after an even number in a.
  call MPI_Barrier(cart)
  t0 = MPI_Wtime()
  do iter = 1, niters
    if (mod(iter, 2) == 1) then
      call advance(a, b)
    else
      call advance(b, a)
    end if
  end do
  t1 = MPI_Wtime()
  seconds = t1 - t0
  call MPI_Reduce(seconds, slowest, 1, MPI_DOUBLE_PRECISION, MPI_MAX, 0, cart)
  if (mod(niters, 2) == 1) call move_alloc(b, a)  ! the final field is now a

  local_heat = sum(a(1:nx, 1:ny))
  call MPI_Allreduce(local_heat, heat, 1, MPI_DOUBLE_PRECISION, MPI_SUM, cart)
  if (rank == 0) then
    write (*, '(a, f0.4, a, f0.9, a, f0.1, a, i0, a, i0, a, i0)') 'heat ', heat, &
      ' seconds ', slowest, ' mlups ', &
      real(n, real64) * real(n, real64) * real(niters, real64) / slowest / 1.0e6_real64, &
      ' ranks ', nprocs, ' dims ', dims(1), ' ', dims(2)
  end if

  if (len_trim(out) > 0) call write_field(trim(out))

  call MPI_Type_free(column)
  call MPI_Comm_free(cart)
  call MPI_Finalize()

contains

  ! (offset, cells) of block `part` (0-based) of `parts` near-equal blocks of `total` cells:
  ! the first mod(total, parts) blocks get one cell more.
  subroutine split(total, parts, part, offset, cells)
    integer, intent(in) :: total, parts, part
    integer, intent(out) :: offset, cells
    integer :: base, extra

    base = total / parts
    extra = mod(total, parts)
    offset = part * base + min(part, extra)
    cells = base
    if (part < extra) cells = cells + 1
  end subroutine split

  ! One step: aold's halo from the neighbours, the sweep into anew, the sources this rank owns.
  subroutine advance(aold, anew)
    real(real64), intent(inout) :: aold(0:nx + 1, 0:ny + 1)
    real(real64), intent(inout) :: anew(0:nx + 1, 0:ny + 1)
    integer :: i, j, s

    call exchange(aold)
    do j = 1, ny
      do i = 1, nx
        anew(i, j) = 0.5_real64 * (aold(i, j) + 0.25_real64 * (aold(i - 1, j) + aold(i + 1, j) &
                                                              + aold(i, j - 1) + aold(i, j + 1)))
      end do
    end do
    do s = 1, nsources
      anew(own_i(s), own_j(s)) = anew(own_i(s), own_j(s)) + energy
    end do
  end subroutine advance

  ! Fills the halo of f from the neighbours' edge cells. The buffers are passed by their first
  ! element (f is explicit-shape, so that is its address and the cells that follow). A
  ! physical boundary's neighbour is MPI_PROC_NULL: nothing arrives, and its halo keeps its 0.
  ! Corners are not exchanged: the 5-point stencil does not read them.
  subroutine exchange(f)
    real(real64), intent(inout) :: f(0:nx + 1, 0:ny + 1)

    ! Rows (contiguous in i): the last interior row up, the first one down.
    call MPI_Sendrecv(f(1, ny), nx, MPI_DOUBLE_PRECISION, above, 0, &
                      f(1, 0), nx, MPI_DOUBLE_PRECISION, below, 0, cart, MPI_STATUS_IGNORE)
    call MPI_Sendrecv(f(1, 1), nx, MPI_DOUBLE_PRECISION, below, 1, &
                      f(1, ny + 1), nx, MPI_DOUBLE_PRECISION, above, 1, cart, &
                      MPI_STATUS_IGNORE)
    ! Columns (strided): the last interior column right, the first one left.
    call MPI_Sendrecv(f(nx, 1), 1, column, right, 2, &
                      f(0, 1), 1, column, left, 2, cart, MPI_STATUS_IGNORE)
    call MPI_Sendrecv(f(1, 1), 1, column, left, 3, &
                      f(nx + 1, 1), 1, column, right, 3, cart, MPI_STATUS_IGNORE)
  end subroutine exchange

  ! Gathers every rank's block interior on rank 0 (MPI_Gatherv of the packed blocks, i
  ! fastest) and writes the N*N interior there exactly as stencil.f90 does.
  subroutine write_field(path)
    character(len=*), intent(in) :: path
    real(real64), allocatable :: packed(:), received(:), field(:,:)
    integer, allocatable :: counts(:), displs(:)
    integer :: r, c(2), ri0, rj0, rnx, rny, at

    packed = reshape(a(1:nx, 1:ny), [nx * ny])
    allocate (counts(0:nprocs - 1), displs(0:nprocs - 1))
    call MPI_Gather(nx * ny, 1, MPI_INTEGER, counts, 1, MPI_INTEGER, 0, cart)
    if (rank == 0) then
      displs(0) = 0
      do r = 1, nprocs - 1
        displs(r) = displs(r - 1) + counts(r - 1)
      end do
      allocate (received(n * n))
    else
      allocate (received(1))
    end if
    call MPI_Gatherv(packed, nx * ny, MPI_DOUBLE_PRECISION, received, counts, displs, &
                     MPI_DOUBLE_PRECISION, 0, cart)
    if (rank /= 0) return

    ! Each rank's block goes back where its Cartesian coordinates put it.
    allocate (field(n, n))
    do r = 0, nprocs - 1
      call MPI_Cart_coords(cart, r, 2, c)
      call split(n, dims(1), c(1), rj0, rny)
      call split(n, dims(2), c(2), ri0, rnx)
      at = displs(r)
      field(ri0 + 1:ri0 + rnx, rj0 + 1:rj0 + rny) = reshape(received(at + 1:at + rnx * rny), &
                                                            [rnx, rny])
    end do
    open (unit=10, file=path, access='stream', form='unformatted', status='replace')
    write (10) field
    close (10)
  end subroutine write_field
end program stencil_mpi
