#!/usr/bin/env python3
"""Tests bench/summarize_results.py on small made-up runs: the tables it
prints, the medians and ratios, the best raw signing variant, the paired
signing-bound rounds, and the count of jobs not delivered in full."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "summarize_results.py")

BOTAN_SPEED = """\
RSA-2048 EMSA-PKCS1-v1_5(SHA-256) 2000 sign/sec; 0.50 ms/op 1 cycles/op (1000 ops in 500 ms)
RSA-2048 EMSA-PKCS1-v1_5(SHA-256) 50000 verify/sec; 0.02 ms/op 1 cycles/op (25000 ops in 500 ms)
AES-256/CBC/PKCS7 encrypt buffer size 1048576 bytes: 700.000 MiB/sec 3.36 cycles/byte (350.00 MiB in 500 ms)
SHA-256 hash buffer size 1048576 bytes: 2000.000 MiB/sec 1.26 cycles/byte (1000.00 MiB in 500 ms)
"""


def end_to_end_run(rate, delivered_jobs=10, submitted_jobs=10):
    return {
        "tool": "t", "label": "l", "jobs_submitted": submitted_jobs,
        "jobs_by_outcome": {"delivered": delivered_jobs}, "destinations_by_outcome": {},
        "messages_delivered": delivered_jobs, "wall_seconds": 1.0, "messages_per_second": rate,
        "latency_p50_ms": 1.0, "latency_p99_ms": 2.0, "cpu_ms_per_message": 0.9,
        "peak_rss_kib": 20480, "child_peak_rss_kib": 0,
    }


def micro_benchmark(run_name, items_per_second):
    return {"name": run_name + "_median", "run_name": run_name, "run_type": "aggregate",
            "aggregate_name": "median", "real_time": 400.0, "time_unit": "us",
            "items_per_second": items_per_second}


class SummarizeTest(unittest.TestCase):
    def summarize(self, runs, micro, extra_lines=()):
        with tempfile.TemporaryDirectory() as folder:
            results = os.path.join(folder, "runs.jsonl")
            with open(results, "w", encoding="utf-8") as out:
                for key, run in runs:
                    out.write(json.dumps({"key": key, "run": run}) + "\n")
                for line in extra_lines:
                    out.write(line + "\n")
            micro_path = os.path.join(folder, "micro.json")
            with open(micro_path, "w", encoding="utf-8") as out:
                json.dump({"benchmarks": micro}, out)
            botan_path = os.path.join(folder, "botan-speed.txt")
            with open(botan_path, "w", encoding="utf-8") as out:
                out.write(BOTAN_SPEED)
            finished = subprocess.run(
                [sys.executable, SCRIPT, "--results", results, "--micro", micro_path, "--botan", botan_path,
                 "--threads", "4", "--seconds", "2", "--repeats", "1", "--load-before", "load 1",
                 "--load-after", "load 2", "--run-seconds", "300"],
                capture_output=True, text=True, check=False)
        self.assertEqual(finished.returncode, 0, finished.stderr)
        self.last_stderr = finished.stderr
        return finished.stdout

    def complete_runs(self):
        runs = []
        for work in ("sign", "encrypt", "sign+encrypt"):
            for size in ("4k", "100k", "1m"):
                runs.append((f"router {work} {size}", end_to_end_run(1000.0)))
                runs.append((f"openssl-library {work} {size}", end_to_end_run(500.0)))
                runs.append((f"openssl-command {work} {size}", end_to_end_run(100.0)))
        runs.append(("router mix", end_to_end_run(700.0)))
        runs.append(("router rate", end_to_end_run(50.0)))
        return runs

    def test_paired_rounds_and_medians(self):
        runs = self.complete_runs()
        for raw, tmpfs, disk in ((2000.0, 1700.0, 1200.0), (2500.0, 2000.0, 1500.0), (2000.0, 1500.0, 1000.0)):
            runs.append(("paired raw", {"signatures_per_second": raw,
                                        "variant": "rsa2048_sign_reused/real_time/threads:4"}))
            runs.append(("paired router tmpfs", end_to_end_run(tmpfs)))
            runs.append(("paired router disk", end_to_end_run(disk)))

        text = self.summarize(runs, [micro_benchmark("rsa2048_sign_reused/real_time/threads:2", 2000.0)])

        self.assertIn("## Signing-bound throughput (paired rounds)", text)
        self.assertIn("| 1 | 2000 | AutoSeeded_RNG, 4 threads | 1700 | 0.85 | 1200 | 0.60 |", text)
        self.assertIn("| 3 | 2000 | AutoSeeded_RNG, 4 threads | 1500 | 0.75 | 1000 | 0.50 |", text)
        self.assertIn("outbox on tmpfs: median router / raw 0.80 (from 0.75 to 0.85)", text)
        self.assertIn("outbox on disk: median router / raw 0.60 (from 0.50 to 0.60)", text)

    def test_raw_limit_is_best_variant(self):
        micro = [micro_benchmark("rsa2048_sign_reused/real_time/threads:2", 2000.0),
                 micro_benchmark("rsa2048_sign_reused_worker_rng/real_time/threads:8", 2500.0),
                 micro_benchmark("cms_sign/4096", 300.0)]

        text = self.summarize(self.complete_runs(), micro)

        self.assertIn("rsa2048_sign_reused variants: 2500 signatures/s", text)
        # The router's 1000 messages/s for sign 4k, against the best raw rate.
        row = text.split("| sign | 4k |", 1)[1].split("\n", 1)[0]
        self.assertTrue(row.endswith("| 0.40 |"), row)

    def test_estimate_counts_cores(self):
        text = self.summarize(self.complete_runs(), [])

        row = text.split("| sign | 4k |", 1)[1].split("\n", 1)[0]
        # One signature at 2000/s plus SHA-256 over 4/3 of 4 KiB at 2000 MiB/s, on every core.
        entity_mib = 4096 * 4 / 3 / (1 << 20)
        estimate = os.cpu_count() * 1000 / (0.5 + entity_mib / 2000 * 1000)
        self.assertIn(f"| {estimate:.0f} |", row)

    def test_incomplete_runs_are_counted(self):
        runs = self.complete_runs()
        runs[0] = (runs[0][0], end_to_end_run(1000.0, delivered_jobs=7, submitted_jobs=10))

        text = self.summarize(runs, [])

        self.assertIn("jobs not delivered in full, over all end-to-end runs: 3", text)
        self.assertNotIn("Signing-bound throughput", text)


    def test_malformed_run_is_left_out(self):
        text = self.summarize(self.complete_runs(), [], extra_lines=['{"key":"router sign 4k","run":}'])

        self.assertIn("| sign | 4k | 1000.0 |", text)
        self.assertIn("runs.jsonl:", self.last_stderr)
        self.assertIn("run left out", self.last_stderr)

    def test_worker_rng_variant_is_named(self):
        runs = self.complete_runs()
        runs.append(("paired raw", {"signatures_per_second": 2000.0,
                                    "variant": "rsa2048_sign_reused_worker_rng/real_time/threads:8"}))
        runs.append(("paired router disk", end_to_end_run(1200.0)))

        text = self.summarize(runs, [])

        self.assertIn("| 1 | 2000 | worker_rng, 8 threads | 1200 | 0.60 |", text)
        self.assertNotIn("outbox on tmpfs", text)


if __name__ == "__main__":
    unittest.main()
