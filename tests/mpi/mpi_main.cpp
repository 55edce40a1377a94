// main() of the MPI test programs. Every rank runs every test (they are collective); only rank 0
// prints. A fatal failure on any rank (an ASSERT or an uncaught exception) leaves the other ranks
// waiting in a collective, so it ends the whole job at once with the rank and the message,
// instead of a hang until the CTest timeout.
#include <mpi.h>

#include <cstdlib>

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace {

class AbortOnFatalFailure : public ::testing::EmptyTestEventListener {
 public:
  explicit AbortOnFatalFailure(int rank) : rank_(rank) {}
  // Noted here: UnitTest::current_test_info() would deadlock inside OnTestPartResult.
  void OnTestStart(const ::testing::TestInfo& t) override {
    test_ = std::string(t.test_suite_name()) + "." + t.name();
  }
  void OnTestPartResult(const ::testing::TestPartResult& r) override {
    if (!r.fatally_failed()) return;
    std::fprintf(stderr, "rank %d: fatal failure in %s at %s:%d:\n%s\nrank %d: aborting the job\n",
                 rank_, test_.c_str(), r.file_name() ? r.file_name() : "?", r.line_number(),
                 r.message(), rank_);
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }

 private:
  int rank_;
  std::string test_;
};

}  // namespace

int main(int argc, char** argv) {
  int provided = 0;
  // As Comm::world() does: ROMIO, not OMPIO, for collective writes of uneven hyperslabs.
  ::setenv("OMPI_MCA_io", "romio321", /*overwrite=*/0);
  MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided);
  ::testing::InitGoogleTest(&argc, argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
  if (rank != 0) delete listeners.Release(listeners.default_result_printer());
  listeners.Append(new AbortOnFatalFailure(rank));
  const int result = RUN_ALL_TESTS();
  int worst = result;
  MPI_Allreduce(&result, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return worst;
}
