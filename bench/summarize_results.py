#!/usr/bin/env python3
"""Turns the raw output of bench/run-benchmarks.sh into a Markdown report.

Reads the end-to-end summaries (one JSON object per run), the Google
Benchmark JSON of router_bench and the text of `botan speed`, and prints
medians, ratios to both OpenSSL peers and to an estimated raw Botan limit.
"""
import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys

WORKS = ["sign", "encrypt", "sign+encrypt"]
SIZES = [("4k", 4 << 10), ("100k", 100 << 10), ("1m", 1 << 20)]
TOOLS = ["router", "openssl-library", "openssl-command"]


def machine_description():
    """Returns core count, CPU model and memory, read off this machine."""
    cores = os.cpu_count()
    model = "unknown"
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    for line in lscpu.splitlines():
        if line.startswith("Model name:"):
            model = line.split(":", 1)[1].strip()
    memory = "unknown"
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / (1 << 20):.1f} GiB"
    return f"{cores} cores (nproc), {model}, {memory} memory"


def load_runs(path):
    """Returns the runs grouped by key, in file order."""
    runs = {}
    with open(path, encoding="utf-8") as results:
        for number, line in enumerate(results, 1):
            try:
                entry = json.loads(line)
                runs.setdefault(entry["key"], []).append(entry["run"])
            except (ValueError, KeyError) as error:
                print(f"summarize_results: {path}:{number}: run left out, not a JSON run record: {error}",
                      file=sys.stderr)
    return runs


def median_of(runs, field):
    return statistics.median(run[field] for run in runs)


def undelivered(runs):
    """Counts jobs over all runs that were not delivered in full."""
    total = 0
    for run in runs:
        if "jobs_submitted" in run:  # the raw signing runs submit no jobs
            total += run["jobs_submitted"] - run["jobs_by_outcome"].get("delivered", 0)
    return total


def parse_botan_speed(path):
    """Returns RSA-2048 sign/s and verify/s, and AES-256/CBC and SHA-256 MiB/s."""
    with open(path, encoding="utf-8") as speed:
        text = speed.read()

    def number(pattern):
        match = re.search(pattern, text)
        if not match:
            sys.exit(f"summarize_results: no match for {pattern!r} in {path}")
        return float(match.group(1))

    return {
        "rsa_sign": number(r"RSA-2048 \S+ ([\d.]+) sign/sec"),
        "rsa_verify": number(r"RSA-2048 \S+ ([\d.]+) verify/sec"),
        "aes_cbc": number(r"AES-256/CBC\S* encrypt buffer size \d+ bytes: ([\d.]+) MiB/sec"),
        "sha256": number(r"SHA-256 hash buffer size \d+ bytes: ([\d.]+) MiB/sec"),
    }


def raw_limit(botan, work, size, cores):
    """Estimates messages per second if only Botan's primitives ran, on every core.

    Signing costs one RSA-2048 signature and SHA-256 over the base64 entity.
    Encrypting costs one RSA public-key operation (timed as a verify) and
    AES-256-CBC over the entity. The entity is 4/3 of the document because of
    base64.
    """
    entity_mib = size * 4 / 3 / (1 << 20)
    ms = 0.0
    if work in ("sign", "sign+encrypt"):
        ms += 1000 / botan["rsa_sign"] + entity_mib / botan["sha256"] * 1000
    if work in ("encrypt", "sign+encrypt"):
        ms += 1000 / botan["rsa_verify"] + entity_mib / botan["aes_cbc"] * 1000
    return cores * 1000 / ms


def ratio(numerator, denominator):
    return f"{numerator / denominator:.2f}" if denominator else "n/a"


def raw_signing_rate(path):
    """Returns the best median signatures per second of the rsa2048_sign_reused
    variants (each thread reusing its PK_Signer), or None when none ran."""
    with open(path, encoding="utf-8") as micro:
        data = json.load(micro)
    rates = [b["items_per_second"] for b in data["benchmarks"]
             if b["run_name"].startswith("rsa2048_sign_reused") and "items_per_second" in b
             and b.get("aggregate_name", "median") == "median"]
    return max(rates) if rates else None


def variant_name(name):
    """Returns "worker_rng, 8 threads" for "rsa2048_sign_reused_worker_rng/real_time/threads:8"."""
    rng = "worker_rng" if "_worker_rng" in name else "AutoSeeded_RNG"
    threads = re.search(r"threads:(\d+)", name)
    return f"{rng}, {threads.group(1)} threads" if threads else rng


def print_signing_bound(runs):
    """Prints the paired rounds of raw signing and the router signing 4 KiB."""
    raw = runs.get("paired raw", [])
    if not raw:
        return
    outboxes = [(name, runs.get(f"paired router {name}", [])) for name in ("tmpfs", "disk")]
    outboxes = [(name, group) for name, group in outboxes if group]

    print("## Signing-bound throughput (paired rounds)\n")
    print("Each round runs raw Botan RSA-2048 signing (the best rsa2048_sign_reused variant) and then the router "
          "signing 4 KiB messages for alice (smtp_reception) with its outbox on a tmpfs, where flushes cost "
          "nothing, and on disk.\n")
    header = "| round | raw signatures/s | best variant |"
    rule = "| ---: | ---: | --- |"
    for name, _ in outboxes:
        header += f" router, outbox on {name}, messages/s | router / raw ({name}) |"
        rule += " ---: | ---: |"
    print(header)
    print(rule)

    ratios = {name: [] for name, _ in outboxes}
    for index, entry in enumerate(raw):
        row = f"| {index + 1} | {entry['signatures_per_second']:.0f} | {variant_name(entry['variant'])} |"
        for name, group in outboxes:
            if index < len(group):
                rate = group[index]["messages_per_second"]
                ratios[name].append(rate / entry["signatures_per_second"])
                row += f" {rate:.0f} | {ratios[name][-1]:.2f} |"
            else:
                row += " | |"
        print(row)
    print()

    for name, values in ratios.items():
        if values:
            cpu = median_of(dict(outboxes)[name], "cpu_ms_per_message")
            print(f"- outbox on {name}: median router / raw {statistics.median(values):.2f} "
                  f"(from {min(values):.2f} to {max(values):.2f}); {cpu:.2f} ms of CPU time per message")
    print()


def print_end_to_end(runs, botan, threads, signing_rate):
    print("## End to end: messages per second (median)\n")
    print("The raw signing limit is the best rsa2048_sign_reused variant: RSA-2048 signatures per second with one, "
          "two or four threads per CPU, each reusing its Botan PK_Signer, measured in the same run.\n")
    print("| work | document | router | OpenSSL library | OpenSSL command "
          "| router / library | router / command | raw Botan limit (estimate) | router / limit "
          "| router / raw signing limit |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for work in WORKS:
        for size_name, size in SIZES:
            rates = {tool: median_of(runs[f"{tool} {work} {size_name}"], "messages_per_second") for tool in TOOLS}
            limit = raw_limit(botan, work, size, os.cpu_count())
            signing = ratio(rates["router"], signing_rate) if signing_rate and "sign" in work else ""
            print(f"| {work} | {size_name} | {rates['router']:.1f} | {rates['openssl-library']:.1f} "
                  f"| {rates['openssl-command']:.1f} | {ratio(rates['router'], rates['openssl-library'])} "
                  f"| {ratio(rates['router'], rates['openssl-command'])} | {limit:.0f} "
                  f"| {ratio(rates['router'], limit)} | {signing} |")
    print()


def print_costs(runs):
    print("## End to end: latency and cost (median)\n")
    print("Latency is submit to delivered for the router (window of jobs in flight), "
          "and start to delivered per message for the peers.\n")
    print("| work | document | tool | p50 ms | p99 ms | CPU ms per message | peak RSS MiB |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: |")
    for work in WORKS:
        for size_name, _ in SIZES:
            for tool in TOOLS:
                group = runs[f"{tool} {work} {size_name}"]
                rss = max(median_of(group, "peak_rss_kib"), median_of(group, "child_peak_rss_kib")) / 1024
                print(f"| {work} | {size_name} | {tool} | {median_of(group, 'latency_p50_ms'):.1f} "
                      f"| {median_of(group, 'latency_p99_ms'):.1f} | {median_of(group, 'cpu_ms_per_message'):.2f} "
                      f"| {rss:.1f} |")
    print()


def print_other_workloads(runs):
    print("## Other router workloads (median)\n")
    print("| workload | messages/s | p50 ms | p99 ms | CPU ms per message | peak RSS MiB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    names = {
        "router mix": "mix: store, forwarding, standard_address, smtp_reception; 1 or 3 destinations "
                      "(alice, bob, fax); 4k and 100k",
        "router rate": "store to alice, 4k, fixed rate 50 jobs/s",
    }
    for key, name in names.items():
        group = runs[key]
        print(f"| {name} | {median_of(group, 'messages_per_second'):.1f} | {median_of(group, 'latency_p50_ms'):.1f} "
              f"| {median_of(group, 'latency_p99_ms'):.1f} | {median_of(group, 'cpu_ms_per_message'):.2f} "
              f"| {median_of(group, 'peak_rss_kib') / 1024:.1f} |")
    print()


def print_micro(path):
    with open(path, encoding="utf-8") as micro:
        data = json.load(micro)
    print("## Micro benchmarks (router_bench, median of the repetitions, one thread)\n")
    print("| benchmark | time µs | MiB/s |")
    print("| --- | ---: | ---: |")
    # One repetition gives no aggregates, so the single runs stand in for medians.
    has_medians = any(b.get("aggregate_name") == "median" for b in data["benchmarks"])
    for benchmark in data["benchmarks"]:
        if has_medians and benchmark.get("aggregate_name") != "median":
            continue
        name = benchmark["run_name"]
        rate = benchmark.get("bytes_per_second")
        rate_text = f"{rate / (1 << 20):.1f}" if rate else ""
        print(f"| {name} | {benchmark['real_time']:.1f} | {rate_text} |")
    print()


def print_botan(botan, signing_rate, threads):
    print("## Raw Botan\n")
    print(f"- `botan speed`, one thread, RSA-2048 PKCS#1 v1.5 SHA-256: {botan['rsa_sign']:.0f} signatures/s, "
          f"{botan['rsa_verify']:.0f} verifications/s")
    print(f"- `botan speed`, one thread, AES-256/CBC encryption: {botan['aes_cbc']:.0f} MiB/s; "
          f"SHA-256: {botan['sha256']:.0f} MiB/s")
    if signing_rate:
        print(f"- RSA-2048 signing, each thread reusing its PK_Signer, best of the router_bench "
              f"rsa2048_sign_reused variants: {signing_rate:.0f} signatures/s")
    print()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--results", required=True)
    parser.add_argument("--micro", required=True)
    parser.add_argument("--botan", required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--seconds", required=True)
    parser.add_argument("--repeats", required=True)
    parser.add_argument("--load-before", required=True)
    parser.add_argument("--load-after", required=True)
    parser.add_argument("--run-seconds", required=True)
    args = parser.parse_args()

    runs = load_runs(args.results)
    botan = parse_botan_speed(args.botan)

    print("# Benchmark results\n")
    print(f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(f"- machine: {machine_description()}")
    print(f"- runs: median of {args.repeats} runs of {args.seconds} s each; "
          f"{args.threads} router crypto workers and {args.threads} peer threads")
    print(f"- load before: `{args.load_before.strip()}`")
    print(f"- load after: `{args.load_after.strip()}`")
    print(f"- run time until this table: {args.run_seconds} s")
    failed = sum(undelivered(group) for group in runs.values())
    print(f"- jobs not delivered in full, over all end-to-end runs: {failed}\n")

    signing_rate = raw_signing_rate(args.micro)
    print_signing_bound(runs)
    print_end_to_end(runs, botan, args.threads, signing_rate)
    print_costs(runs)
    print_other_workloads(runs)
    print_micro(args.micro)
    print_botan(botan, signing_rate, args.threads)


if __name__ == "__main__":
    main()
