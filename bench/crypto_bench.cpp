// Micro benchmarks of the per-destination work: CMS signing and encryption,
// whole S/MIME message building, and policy evaluation, for 4 KiB, 100 KiB and
// 1 MiB documents. Keys are RSA-2048 from the test PKI.
#include "runtime/cms/cms.hpp"
#include "runtime/compose/compose.hpp"
#include "runtime/policy/policy.hpp"

#include "tests/common/test_pki.hpp"

#include <benchmark/benchmark.h>
#include <botan/auto_rng.h>

namespace {

using namespace router;

/// PKI and config made once for every benchmark in the run.
struct bench_fixture {
  bench_fixture() {
    testing::write_test_pki(dir.path());
    testing::write_file(dir / "router.textproto", testing::test_config_text());
    config = config::load_config(dir / "router.textproto");
  }

  testing::scratch_dir dir;
  config::loaded_config config;
};

bench_fixture& fixture() {
  static bench_fixture instance;
  return instance;
}

std::vector<uint8_t> document(size_t size) {
  std::vector<uint8_t> data(size);
  for (size_t i = 0; i < size; ++i)
    data[i] = static_cast<uint8_t>('A' + i % 26);
  return data;
}

void cms_sign(benchmark::State& state) {
  auto& config = fixture().config;
  Botan::AutoSeeded_RNG rng;
  const auto content = document(static_cast<size_t>(state.range(0)));
  cms::signer_identity signer{&*config.device_certificate, config.device_key.get(), config.device_chain};
  cms::signing_options options;
  options.signing_time = testing::reference_time();

  for (auto _ : state)
    benchmark::DoNotOptimize(cms::sign(content, signer, options, rng));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}

void cms_encrypt(benchmark::State& state) {
  auto& config = fixture().config;
  Botan::AutoSeeded_RNG rng;
  const auto content = document(static_cast<size_t>(state.range(0)));
  const std::vector<cms::recipient> recipients{{&config.destination_certificates.at("alice")}};

  for (auto _ : state)
    benchmark::DoNotOptimize(cms::encrypt(content, recipients, cms::content_cipher::aes256_cbc, rng));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}

/// Builds a whole signed-then-encrypted message for one destination.
void compose_sign_and_encrypt(benchmark::State& state) {
  auto& config = fixture().config;
  Botan::AutoSeeded_RNG rng;
  messages::job_request job;
  job.set_job_id("bench");
  job.set_function(config::STORE);
  job.add_destinations()->set_id("alice");
  auto* attachment = job.add_attachments();
  attachment->set_filename("document.pdf");
  attachment->set_content_type("application/pdf");
  const auto data = document(static_cast<size_t>(state.range(0)));
  attachment->set_data(std::string(data.begin(), data.end()));
  const auto plan = policy::plan_job(job, config.settings, config.certificate_index, testing::reference_time());

  for (auto _ : state) {
    auto built = compose::build_for_destination(config, job, plan.destinations(0), testing::reference_time(), rng);
    if (built.message().empty())
      state.SkipWithError(built.detail().c_str());
    benchmark::DoNotOptimize(built);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}

void policy_plan(benchmark::State& state) {
  auto& config = fixture().config;
  messages::job_request job;
  job.set_function(config::FORWARDING);
  for (const char* id : {"alice", "bob", "carol", "dave", "erin", "fax"})
    job.add_destinations()->set_id(id);

  for (auto _ : state)
    benchmark::DoNotOptimize(policy::plan_job(job, config.settings, config.certificate_index, testing::reference_time()));
}

BENCHMARK(cms_sign)->Arg(4 << 10)->Arg(100 << 10)->Arg(1 << 20)->Unit(benchmark::kMicrosecond);
BENCHMARK(cms_encrypt)->Arg(4 << 10)->Arg(100 << 10)->Arg(1 << 20)->Unit(benchmark::kMicrosecond);
BENCHMARK(compose_sign_and_encrypt)->Arg(4 << 10)->Arg(100 << 10)->Arg(1 << 20)->Unit(benchmark::kMicrosecond);
BENCHMARK(policy_plan)->Unit(benchmark::kMicrosecond);

} // namespace
