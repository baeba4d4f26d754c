#!/usr/bin/env bash
# clang-format check and clang-tidy over the project's sources (not part of the build).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD=${1:-build/release}
cd "$ROOT"
files=$(git ls-files 'src/*.cpp' 'src/*.h' 'apps/*.cpp' 'apps/*.h')
clang-format-14 --dry-run $files 2>&1 | head -50 || true
clang-tidy-14 -p "$BUILD" --quiet $(git ls-files 'src/*.cpp' 'apps/*.cpp') 2>&1 | grep -E "warning|error" | head -100 || true
