! The stencil step in Fortran, for numpy.f2py; built by f2py_fortran.py with -O3 -ffp-contract=off.
! Python keeps C-ordered a[j, i] arrays and passes their transposes a.T: Fortran-ordered
! a(i, j) views of the same memory, which f2py takes without a copy.
subroutine step(aold, anew, nx, ny)
  implicit none
  integer, intent(in) :: nx, ny
  ! real(8), not iso_fortran_env's real64: f2py maps real(8) to float64 without a .f2py_f2cmap.
  real(8), intent(in) :: aold(0:nx + 1, 0:ny + 1)
  real(8), intent(inout) :: anew(0:nx + 1, 0:ny + 1)
  !f2py integer, intent(hide), depend(aold) :: nx = shape(aold, 0) - 2
  !f2py integer, intent(hide), depend(aold) :: ny = shape(aold, 1) - 2
  integer :: i, j

  do j = 1, ny
    do i = 1, nx
      anew(i, j) = 0.5d0 * (aold(i, j) + 0.25d0 * (aold(i - 1, j) + aold(i + 1, j) &
                                                  + aold(i, j - 1) + aold(i, j + 1)))
    end do
  end do
end subroutine step
