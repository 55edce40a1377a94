! The comparison study's case, sequential Fortran 90: 2D heat diffusion, 5-point stencil,
! Dirichlet 0 halo, three point sources. The arithmetic is the study's, written exactly as calor
! evaluates it, so that the final field agrees with calor bit for bit.
!
! usage: calor_fortran_stencil [N [steps [energy [output.raw]]]]
!   prints: heat, seconds and MLUP/s; writes the N*N interior (i fastest) as raw float64.
program stencil
  use, intrinsic :: iso_fortran_env, only: real64, int64
  implicit none
  integer :: n, niters, iter, i, j, k, nargs
  integer :: sx(3), sy(3)
  real(real64) :: energy, heat
  real(real64), allocatable, target :: a(:,:), b(:,:)
  real(real64), pointer :: aold(:,:), anew(:,:), tmp(:,:)
  integer(int64) :: t0, t1, rate
  character(len=512) :: arg, out

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

  ! Sources (1-based interior coordinates, integer division after the multiplication).
  sx = (/ n / 2, n / 3, n * 4 / 5 /)
  sy = (/ n / 2, n / 3, n * 8 / 9 /)

  allocate (a(0:n + 1, 0:n + 1), b(0:n + 1, 0:n + 1))
  a = 0.0_real64
  b = 0.0_real64
  aold => a
  anew => b

  call system_clock(t0, rate)
  do iter = 1, niters
    do j = 1, n
      do i = 1, n
        anew(i, j) = 0.5_real64 * (aold(i, j) + 0.25_real64 * (aold(i - 1, j) + aold(i + 1, j) &
                                                              + aold(i, j - 1) + aold(i, j + 1)))
      end do
    end do
    do k = 1, 3
      anew(sx(k), sy(k)) = anew(sx(k), sy(k)) + energy
    end do
    tmp => aold
    aold => anew
    anew => tmp
  end do
  call system_clock(t1)

  heat = sum(aold(1:n, 1:n))
  write (*, '(a, f0.4, a, f0.3, a, f0.1)') 'heat ', heat, ' seconds ', &
    real(t1 - t0, real64) / real(rate, real64), ' mlups ', &
    real(n, real64) * real(n, real64) * real(niters, real64) / &
    (real(t1 - t0, real64) / real(rate, real64)) / 1.0e6_real64

  if (len_trim(out) > 0) then
    open (unit=10, file=trim(out), access='stream', form='unformatted', status='replace')
    write (10) aold(1:n, 1:n)
    close (10)
  end if
end program stencil
