! The C interface from Fortran 2008 (iso_c_binding), issue 21: the case study at N = 480,
! 50 steps, printing the same heat and max as `calor run`.
module calor_c
  use, intrinsic :: iso_c_binding
  implicit none
  type, bind(c) :: calor_stats
    real(c_double) :: heat, min, max, l2
    integer(c_int64_t) :: step
    real(c_double) :: time
  end type
  interface
    integer(c_int) function calor_create(toml, sim) bind(c, name="calor_create")
      import :: c_int, c_char, c_ptr
      character(kind=c_char), dimension(*), intent(in) :: toml
      type(c_ptr), intent(out) :: sim
    end function
    integer(c_int) function calor_run(sim) bind(c, name="calor_run")
      import :: c_int, c_ptr
      type(c_ptr), value :: sim
    end function
    integer(c_int) function calor_get_stats(sim, stats) bind(c, name="calor_get_stats")
      import :: c_int, c_ptr, calor_stats
      type(c_ptr), value :: sim
      type(calor_stats), intent(out) :: stats
    end function
    subroutine calor_destroy(sim) bind(c, name="calor_destroy")
      import :: c_ptr
      type(c_ptr), value :: sim
    end subroutine
  end interface
end module

program case_study
  use calor_c
  implicit none
  type(c_ptr) :: sim
  type(calor_stats) :: st
  character(len=*), parameter :: nl = c_new_line
  if (calor_create('preset = "stencil"' // nl // 'n = 480' // nl // 'steps = 50' // nl // c_null_char, &
                   sim) /= 0) error stop "calor_create failed"
  if (calor_run(sim) /= 0) error stop "calor_run failed"
  if (calor_get_stats(sim, st) /= 0) error stop "calor_get_stats failed"
  write (*, '(a, f0.4, a, es24.17)') "heat ", st%heat, " max ", st%max
  call calor_destroy(sim)
end program
