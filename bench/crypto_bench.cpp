// Micro benchmarks of the per-destination work: CMS signing and encryption,
// whole S/MIME message building, and policy evaluation, for 4 KiB, 100 KiB and
// 1 MiB documents, each with a new Botan signer per message and with the
// caches the crypto workers keep. Keys are RSA-2048 from the test PKI. Also
// the raw RSA-2048 signing rate of Botan, each thread reusing its PK_Signer.
// It runs with one, two and four threads per CPU, and with AutoSeeded_RNG and
// the crypto workers' ChaCha_RNG. The best of these is the limit that signing
// puts on the router on this machine.
#include "runtime/cms/cms.hpp"
#include "runtime/cms/signer_cache.hpp"
#include "runtime/cms/worker_rng.hpp"
#include "runtime/compose/build_cache.hpp"
#include "runtime/compose/compose.hpp"
#include "runtime/policy/policy.hpp"

#include "tests/common/test_pki.hpp"

#include <benchmark/benchmark.h>
#include <botan/auto_rng.h>
#include <botan/pubkey.h>

#include <algorithm>
#include <memory>
#include <thread>

namespace {

using namespace router;

/// PKI and config made once for every benchmark in the run.
struct bench_fixture {
  bench_fixture() {
    testing::write_test_pki(dir.path());
    testing::write_file(dir / "router.textproto", testing::test_config_text());
    config = config::load_config(dir / "router.textproto");
    shared_config = std::make_shared<const config::loaded_config>(config);
  }

  testing::scratch_dir dir;
  config::loaded_config config;
  std::shared_ptr<const config::loaded_config> shared_config;  // a copy of config, for compose::build_cache
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

/// Signs as cms_sign does, with a PK_Signer reused from a cms::signer_cache.
void cms_sign_reused(benchmark::State& state) {
  auto& config = fixture().config;
  Botan::AutoSeeded_RNG rng;
  cms::signer_cache cache(config.device_key, rng);
  const auto content = document(static_cast<size_t>(state.range(0)));
  cms::signer_identity signer{&*config.device_certificate, config.device_key.get(), config.device_chain};
  cms::signing_options options;
  options.signing_time = testing::reference_time();

  for (auto _ : state)
    benchmark::DoNotOptimize(cms::sign(content, signer, options, cache));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}

/// Raw RSA-2048 PKCS#1 v1.5 SHA-256 signatures over 100 bytes, each thread
/// with its own PK_Signer made once, as `botan speed` makes it. The best
/// items_per_second over the thread counts and RNGs is the machine's raw
/// signing limit.
void rsa2048_sign_with(benchmark::State& state, Botan::RandomNumberGenerator& rng) {
  auto& config = fixture().config;
  Botan::PK_Signer signer(*config.device_key, rng, "EMSA3(SHA-256)");
  const std::vector<uint8_t> message(100, 0x5a);

  for (auto _ : state)
    benchmark::DoNotOptimize(signer.sign_message(message, rng));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

/// Signs with Botan's AutoSeeded_RNG.
void rsa2048_sign_reused(benchmark::State& state) {
  Botan::AutoSeeded_RNG rng;
  rsa2048_sign_with(state, rng);
}

/// Signs with the ChaCha_RNG that each crypto worker owns, which also
/// supplies the signature's blinding values.
void rsa2048_sign_reused_worker_rng(benchmark::State& state) {
  rsa2048_sign_with(state, *cms::make_worker_rng());
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

messages::job_request store_job(size_t document_size) {
  messages::job_request job;
  job.set_job_id("bench");
  job.set_function(config::STORE);
  job.add_destinations()->set_id("alice");
  auto* attachment = job.add_attachments();
  attachment->set_filename("document.pdf");
  attachment->set_content_type("application/pdf");
  const auto data = document(document_size);
  attachment->set_data(std::string(data.begin(), data.end()));
  return job;
}

/// Builds a whole signed-then-encrypted message for one destination, as a
/// crypto worker does: with a compose::build_cache.
void compose_sign_and_encrypt_cached(benchmark::State& state) {
  auto& config = *fixture().shared_config;
  Botan::AutoSeeded_RNG rng;
  compose::build_cache cache(fixture().shared_config, rng);
  const auto job = store_job(static_cast<size_t>(state.range(0)));
  const auto plan = policy::plan_job(job, config.settings, config.certificate_index, testing::reference_time());

  for (auto _ : state) {
    auto built = compose::build_for_destination(cache, job, plan.destinations(0), testing::reference_time());
    if (built.message().empty())
      state.SkipWithError(built.detail().c_str());
    benchmark::DoNotOptimize(built);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}

/// Builds a whole signed-then-encrypted message for one destination.
void compose_sign_and_encrypt(benchmark::State& state) {
  auto& config = fixture().config;
  Botan::AutoSeeded_RNG rng;
  const auto job = store_job(static_cast<size_t>(state.range(0)));
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
BENCHMARK(cms_sign_reused)->Arg(4 << 10)->Unit(benchmark::kMicrosecond);
/// Runs a benchmark with one, two and four threads per CPU. Botan 2 computes
/// half of each RSA signature on its own thread pool while the calling thread
/// waits, so more threads than cores sign faster.
void threads_per_cpu(benchmark::internal::Benchmark* benchmark) {
  const int cpus = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  for (const int per_cpu : {1, 2, 4})
    benchmark->Threads(per_cpu * cpus);
}

BENCHMARK(rsa2048_sign_reused)->Apply(threads_per_cpu)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(rsa2048_sign_reused_worker_rng)->Apply(threads_per_cpu)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(cms_encrypt)->Arg(4 << 10)->Arg(100 << 10)->Arg(1 << 20)->Unit(benchmark::kMicrosecond);
BENCHMARK(compose_sign_and_encrypt)->Arg(4 << 10)->Arg(100 << 10)->Arg(1 << 20)->Unit(benchmark::kMicrosecond);
BENCHMARK(compose_sign_and_encrypt_cached)->Arg(4 << 10)->Arg(100 << 10)->Arg(1 << 20)->Unit(benchmark::kMicrosecond);
BENCHMARK(policy_plan)->Unit(benchmark::kMicrosecond);

} // namespace
