#include "calor/solver.hpp"

#include <algorithm>
#include <string>

#include "calor/device.hpp"
#include "calor/error.hpp"

namespace calor {

Solver::Solver(Problem problem, std::unique_ptr<Backend> backend,
               std::shared_ptr<const Domain> domain)
    : problem_(std::move(problem)), backend_(std::move(backend)), domain_(std::move(domain)) {
  problem_.validate();
  if (!domain_) domain_ = std::make_shared<WholeDomain>(problem_.grid);
  const Box box = domain_->box();
  const Grid local = box.grid_in(problem_.grid);
  halo_ = domain_->make_halo(problem_.boundaries);
  // As wide a halo as the backend wants, but never wider than the thinnest block along an
  // exchanged axis (a periodic or neighbour's halo is copied from that many interior cells).
  int width = std::max(1, backend_->halo_width(local, *halo_));
  // Every rank the same width, the narrowest any wants: neighbours exchange as many layers as
  // they hold, and a backend that blocks steps by the halo's width (tiled) must block alike.
  width = static_cast<int>(-domain_->max_over_ranks(-static_cast<double>(width)));
  for (int a = 0; a < local.dim; ++a)
    if (halo_->exchanged(a, 0) || halo_->exchanged(a, 1))
      width = static_cast<int>(std::min<index_t>(width, domain_->min_block(a)));
  // In the memory space the backend registered.
  const MemorySpace space = backend_memory_space(backend_->name());
  cur_ = Field(local, width, space, backend_->threads());
  next_ = Field(local, width, space, backend_->threads());
  if (space == MemorySpace::host) {
    apply_initial(problem_.initial, cur_, problem_.grid, box.low);
  } else if (problem_.initial.kind == InitialKind::zero) {
    // Device memory comes zeroed: no mirror to fill and copy (host_field() makes it if read).
  } else {  // set on the host mirror, then copied over
    host_ = Field(local, width);
    apply_initial(problem_.initial, host_, problem_.grid, box.low);
    copy_field(host_, cur_);
    host_step_ = 0;
  }
  scheme_ = Scheme::from(problem_, cur_, box.low, width);
  halo_->set_conductivity(Conductivity{problem_.alpha, scheme_.alpha.get()});
  // No halo is filled here: every backend updates the halo before a step reads it, and under
  // MPI that update is an exchange, which must not start before every rank has set up (reading
  // the initial field may fail on one rank; the run agrees on that first).
}

const Field& Solver::host_field() const {
  if (cur_.space() == MemorySpace::host) return cur_;
  if (host_step_ != steps_done_) {
    if (host_.size() == 0) host_ = Field(cur_.grid(), cur_.halo());
    copy_field(cur_, host_);
    host_step_ = steps_done_;
  }
  return host_;
}

void Solver::load_interior(const double* dense) {
  if (cur_.space() == MemorySpace::host) {
    cur_.copy_interior_from(dense);
    return;
  }
  (void)host_field();  // the halo and padding as they are, the interior replaced
  host_.copy_interior_from(dense);
  copy_field(host_, cur_);
}

void Solver::set_values(const Boundaries& bc, const Sources& sources) {
  for (int a = 0; a < 3; ++a)
    for (int s = 0; s < 2; ++s)
      if (bc.face[a][s].kind != problem_.boundaries.face[a][s].kind)
        throw Error("boundary." + face_name(a, s) + " is " +
                    std::string(to_string(problem_.boundaries.face[a][s].kind)) +
                    "; a running simulation can change its values, not its kind (" +
                    std::string(to_string(bc.face[a][s].kind)) + ")");
  if (sources.points.size() != problem_.sources.points.size())
    throw Error("a running simulation has " + std::to_string(problem_.sources.points.size()) +
                " point sources; their energies can change, not their number (" +
                std::to_string(sources.points.size()) + " given)");
  Problem changed = problem_;
  changed.boundaries = bc;
  for (std::size_t i = 0; i < sources.points.size(); ++i) {
    changed.sources.points[i].energy = sources.points[i].energy;
    changed.sources.points[i].table = sources.points[i].table;
  }
  // Only what may change: a full validate() passes over the alpha and q fields, and this runs
  // between chunks (a Python callable calls it every few steps).
  changed.validate_values();
  problem_ = std::move(changed);
  halo_->set_boundaries(problem_.boundaries.at(time()));
  scheme_.set_time(problem_, time());
}

void Solver::step(std::int64_t n) {
  if (n <= 0) return;
  if (!problem_.time_dependent()) {
    backend_->advance(scheme_, *halo_, cur_, next_, n);
    steps_done_ += n;
    return;
  }
  // Time tables: each step takes the boundary values and source energies at its start time.
  for (std::int64_t s = 0; s < n; ++s) {
    const double t = time();
    halo_->set_boundaries(problem_.boundaries.at(t));
    scheme_.set_time(problem_, t);
    backend_->advance(scheme_, *halo_, cur_, next_, 1);
    ++steps_done_;
  }
}

}  // namespace calor
