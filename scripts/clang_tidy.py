#!/usr/bin/env python3
"""clang-tidy over the project's translation units: in parallel, each finding once, cached.

Usage: scripts/clang_tidy.py BUILD_DIR [-j N] [--no-cache]

Runs clang-tidy-14 (configured by the root .clang-tidy) on every .cpp file git tracks under
src/, apps/, tests/ and bench/ that BUILD_DIR/compile_commands.json compiles (the libFuzzer
targets are not in a release build's database: they need clang-only flags). Prints every
finding once (a header's finding shows up in each translation unit that includes it), a
count per check, and exits 1 on any finding or failure, 0 when there is none.

The cache (BUILD_DIR/tidy-cache; --no-cache or LINT_CACHE=0 turns it off): a unit's result
depends only on what clang-tidy reads, so it is stored under a SHA-256 of the clang-tidy
version, its configuration, the compile command and the unit preprocessed with its
comments (clang++-14 -E -C: every header it includes, and every NOLINT). Preprocessing
takes well under a second, clang-tidy seconds to a minute: an unchanged unit is not
analysed again. Results unused for a week are dropped.
"""
import argparse
import concurrent.futures
import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIDY = "clang-tidy-14"
CLANG = "clang++-14"
SOURCES = ["src/*.cpp", "apps/*.cpp", "tests/*.cpp", "bench/*.cpp"]
# A diagnostic's first line: "path:line:col: warning: text [check]". Notes belong to it.
DIAGNOSTIC = re.compile(r"^\S.*:\d+:\d+: (warning|error): .*?(?: \[([^\]]+)\])?$")
CHATTER = re.compile(r"^(\d+ warnings? (generated|treated as errors?)\.?|Suppressed \d+ warnings? .*|Use -header-filter=.*)$")


def translation_units(build):
    database = json.loads((build / "compile_commands.json").read_text())
    by_file = {Path(entry["directory"], entry["file"]).resolve(): entry for entry in database}
    tracked = subprocess.run(["git", "ls-files", *SOURCES], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    return [(name, by_file[(ROOT / name).resolve()]) for name in tracked if (ROOT / name).resolve() in by_file]


def preprocess_command(entry):
    """The unit's compile command turned into clang++-14 -E -C to standard output."""
    args = entry["arguments"] if "arguments" in entry else shlex.split(entry["command"])
    out, skip = [CLANG], False
    for arg in args[1:]:
        if skip:
            skip = False
        elif arg == "-o":
            skip = True
        elif arg != "-c":
            out.append(arg)
    return out + ["-E", "-C", "-o", "-"]


def cache_key(entry, stamp):
    """SHA-256 of everything clang-tidy reads for this unit, or None if it does not preprocess."""
    run = subprocess.run(preprocess_command(entry), cwd=entry["directory"], capture_output=True)
    if run.returncode != 0:
        return None
    digest = hashlib.sha256(stamp)
    digest.update(json.dumps(entry, sort_keys=True).encode())
    digest.update(run.stdout)
    return digest.hexdigest()


def tidy(name, entry, build, cache, stamp):
    """{"output", "trouble", "failed", "cached"} for one unit."""
    key = cache_key(entry, stamp) if cache else None
    stored = cache / f"{key}.json" if key else None
    if stored and stored.exists():
        result = json.loads(stored.read_text())
        os.utime(stored)  # used now: kept another week
        return {**result, "cached": True}
    run = subprocess.run([TIDY, "-p", str(build), "--quiet", str(ROOT / name)], cwd=ROOT, capture_output=True,
                         text=True)
    # stderr is "N warnings generated" chatter, unless something went wrong (a crash, a bad
    # .clang-tidy, a file that does not compile): keep whatever else it says.
    trouble = "".join(line + "\n" for line in run.stderr.splitlines() if line.strip() and not CHATTER.match(line))
    result = {"output": run.stdout, "trouble": trouble, "failed": run.returncode != 0}
    if stored:
        stored.write_text(json.dumps(result))
    return {**result, "cached": False}


def findings(output):
    """Splits clang-tidy's output into (first line, check, whole text) per diagnostic."""
    blocks = []
    for line in output.splitlines(keepends=True):
        match = DIAGNOSTIC.match(line.rstrip("\n"))
        if match:
            blocks.append([line.rstrip("\n"), (match.group(2) or "clang-diagnostic").split(",")[0], line])
        elif blocks:
            blocks[-1][2] += line
        elif line.strip():
            blocks.append([line.rstrip("\n"), "clang-tidy", line])
    return blocks


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build", type=Path)
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--no-cache", action="store_true")
    args = parser.parse_args()
    build = args.build.resolve()
    use_cache = not args.no_cache and os.environ.get("LINT_CACHE", "1") != "0"
    cache = build / "tidy-cache" if use_cache else None
    if cache:
        cache.mkdir(parents=True, exist_ok=True)
    # What every unit shares: the tool and its configuration as it reads it (the root .clang-tidy
    # resolved, so editing a comment there costs nothing), plus any other .clang-tidy as is.
    version = subprocess.run([TIDY, "--version"], capture_output=True, check=True).stdout
    config = subprocess.run([TIDY, "--dump-config"], cwd=ROOT, capture_output=True, check=True).stdout
    others = sorted(p for p in ROOT.rglob(".clang-tidy")
                    if p.parent != ROOT and not {"build", "third_party"} & set(p.relative_to(ROOT).parts))
    stamp = version + config + b"".join(bytes(p.relative_to(ROOT)) + b"\0" + p.read_bytes() for p in others)

    units = translation_units(build)
    results, done, cached = {}, 0, 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {pool.submit(tidy, name, entry, build, cache, stamp): name for name, entry in units}
        for future in concurrent.futures.as_completed(futures):
            results[futures[future]] = future.result()
            done += 1
            cached += results[futures[future]]["cached"]
            if done % 20 == 0 and done < len(units):
                print(f"[lint] clang-tidy: {done}/{len(units)} translation units", flush=True)

    seen, by_check, failed_units = set(), Counter(), []
    for name, _ in units:
        result = results[name]
        blocks = findings(result["output"])
        if result["trouble"]:
            sys.stdout.write(f"[lint] clang-tidy on {name} says:\n{result['trouble']}")
        if result["failed"] and not blocks:
            failed_units.append(name)
        for first, check, text in blocks:
            if first in seen:
                continue
            seen.add(first)
            by_check[check] += 1
            sys.stdout.write(text)
    if cache:  # drop results no run has used for a week (other branches keep theirs meanwhile)
        for stale in cache.glob("*.json"):
            if stale.stat().st_mtime < time.time() - 7 * 86400:
                stale.unlink()
    for name in failed_units:
        print(f"[lint] clang-tidy failed on {name}")
    print(f"[lint] clang-tidy: {len(units)} translation units, {args.jobs} jobs, {cached} from the cache")
    if by_check:
        print(f"[lint] clang-tidy: {sum(by_check.values())} finding(s): " +
              ", ".join(f"{check} {count}" for check, count in by_check.most_common()))
    return 1 if by_check or failed_units else 0


if __name__ == "__main__":
    sys.exit(main())
