#include "calor/state.hpp"

namespace calor {

std::vector<double> State::block() const {
  std::vector<double> dense(static_cast<std::size_t>(box.count()));
  double* out = dense.data();
  for (index_t k = 0; k < box.size(2); ++k)
    for (index_t j = 0; j < box.size(1); ++j)
      for (index_t i = 0; i < box.size(0); ++i)
        *out++ = at(i, j, k);
  return dense;
}

std::vector<double> State::gather() const {
  return comm->gather(box, block(), problem->grid);
}

Stats State::stats() const {
  const index_t n[3] = {box.size(0), box.size(1), box.size(2)};
  const StatsAccumulator local = accumulate(cells, n, stride_y, stride_z);
  return (replicated ? local : comm->reduce(local)).finish();
}

State State::dense(const Problem& p, std::int64_t step, const Box& box, const double* cells,
                   const Comm& comm) {
  State s;
  s.problem = &p;
  s.step = step;
  s.time = static_cast<double>(step) * p.dt;
  s.box = box;
  s.cells = cells;
  s.stride_y = box.size(0);
  s.stride_z = box.size(0) * box.size(1);
  s.comm = &comm;
  return s;
}

}  // namespace calor
