#!/usr/bin/env python3
"""Keeps the module layering as src/README.md states it.

Reads two tables from src/README.md:
  - the module table (| module | what | may use |): which modules each module
    may include and link;
  - the vendor table (| vendor | headers | only in |): the one place each
    outside library's headers may appear.
and checks, for every library source of every module (tests, benchmarks,
fuzzers and test helpers may use more: their CMake targets say what):
  1. each `#include "<module>/..."` names the module itself or one it may use;
  2. each quant::<module> its CMake library links is one it may use;
  3. each vendor header appears in library code (src/, apps/) only where the
     vendor table allows it;
  4. the allowed graph has no cycle, and every module folder is in the table;
  5. each module's README names every module its CMake library links (the
     README says what the module depends on, and must not drift from CMake).
Exits 1 listing every violation as `file:line: what`, 0 when the layering holds.
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

TEST_FILE = re.compile(r"(_test\.(cpp|h)|_bench\.cpp|^fuzz_.*\.cpp|^test_.*\.(cpp|h)|_fixture\.cpp|report_fixture\.cpp)$")
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^">]+)[">]')


def table_rows(text, header_pattern):
    """Rows (lists of cells) of the markdown table whose header matches."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if re.match(header_pattern, line.strip()):
            rows = []
            for row in lines[i + 2:]:
                if not row.strip().startswith("|"):
                    break
                rows.append([c.strip() for c in row.strip().strip("|").split("|")])
            return rows
    return None


def names(cell):
    return [n.strip("` ") for n in re.split(r"[,;]", cell) if n.strip("` ")]


def check(root):
    """The problems found in the tree at `root` (a list of messages)."""
    global ROOT
    ROOT = root
    SRC = root / "src"
    README = SRC / "README.md"
    problems = []
    text = README.read_text()
    rows = table_rows(text, r"^\|\s*module\s*\|\s*what\s*\|\s*may use\s*\|")
    if rows is None:
        return [f"{README}: no '| module | what | may use |' table"]
    modules = [r[0].strip("` ") for r in rows]
    allowed = {}
    for r in rows:
        module = r[0].strip("` ")
        # Module names in the "may use" cell; outside libraries (DuckDB, zlib ...) are listed too, not checked here.
        allowed[module] = {n.split()[0] for n in names(r[2]) if n.split()[0] in modules}
    folders = sorted(p.name for p in SRC.iterdir() if p.is_dir())
    for folder in folders:
        if folder not in allowed:
            problems.append(f"{README}: module folder src/{folder} is not in the module table")
    for module in modules:
        if not (SRC / module).is_dir():
            problems.append(f"{README}: the table lists {module}, but src/{module} does not exist")

    # 4. no cycle
    state = {}

    def visit(m, path):
        if state.get(m) == 1:
            problems.append(f"{README}: the allowed dependencies have a cycle: {' -> '.join(path + [m])}")
            return
        if state.get(m) == 2:
            return
        state[m] = 1
        for d in sorted(allowed.get(m, ())):
            visit(d, path + [m])
        state[m] = 2

    for m in modules:
        visit(m, [])

    # 1. includes of library sources
    for module in modules:
        folder = SRC / module
        if not folder.is_dir():
            continue
        for f in sorted(folder.rglob("*")):
            if f.suffix not in (".h", ".cpp") or TEST_FILE.search(f.name):
                continue
            for n, line in enumerate(f.read_text(errors="replace").splitlines(), 1):
                m = INCLUDE.match(line)
                if not m or "/" not in m.group(1):
                    continue
                target = m.group(1).split("/")[0]
                if target in allowed and target != module and target not in allowed[module]:
                    problems.append(f"{f.relative_to(ROOT)}:{n}: {module} includes {m.group(1)}, "
                                    f"but src/README.md says {module} may use only: "
                                    f"{', '.join(sorted(allowed[module])) or 'nothing'}")

    # 2. what each module's CMake library links
    for module in modules:
        cmake = SRC / module / "CMakeLists.txt"
        if not cmake.exists():
            continue
        body = cmake.read_text()
        lib = re.search(r"quant_add_library\(\s*" + re.escape(module) + r"\b(.*?)\)", body, re.S)
        if not lib:
            problems.append(f"{cmake.relative_to(ROOT)}: no quant_add_library({module} ...)")
            continue
        for dep in re.findall(r"quant::([a-z_0-9]+)", lib.group(1)):
            if dep in ("warnings",):
                continue
            if dep not in allowed:
                problems.append(f"{cmake.relative_to(ROOT)}: {module} links quant::{dep}, which is not a module")
            elif dep != module and dep not in allowed[module]:
                problems.append(f"{cmake.relative_to(ROOT)}: {module} links quant::{dep}, "
                                f"but src/README.md does not let {module} use {dep}")

    # 5. each README names what its library links
    for module in modules:
        cmake = SRC / module / "CMakeLists.txt"
        readme = SRC / module / "README.md"
        if not cmake.exists():
            continue
        if not readme.exists():
            problems.append(f"src/{module}: no README.md")
            continue
        lib = re.search(r"quant_add_library\(\s*" + re.escape(module) + r"\b(.*?)\)", cmake.read_text(), re.S)
        prose = readme.read_text()
        for dep in sorted(set(re.findall(r"quant::([a-z_0-9]+)", lib.group(1) if lib else ""))):
            if dep in ("warnings", module):
                continue
            if not re.search(r"(?<![a-z_])" + re.escape(dep) + r"(?![a-z_])", prose):
                problems.append(f"{readme.relative_to(ROOT)}: {module} links quant::{dep} "
                                f"({cmake.relative_to(ROOT)}), but its README never names {dep}")

    # 3. vendor headers
    vendors = table_rows(text, r"^\|\s*vendor\s*\|\s*headers\s*\|\s*only in\s*\|")
    if vendors is None:
        problems.append(f"{README}: no '| vendor | headers | only in |' table")
        vendors = []
    rules = []
    for v in vendors:
        prefixes = names(v[1])
        places = names(v[2])
        rules.append((v[0], prefixes, places))
    for base in (SRC, ROOT / "apps"):
        for f in sorted(base.rglob("*")):
            if f.suffix not in (".h", ".cpp") or TEST_FILE.search(f.name):
                continue
            rel = f.relative_to(ROOT).as_posix()
            for n, line in enumerate(f.read_text(errors="replace").splitlines(), 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                header = m.group(1)
                for vendor, prefixes, places in rules:
                    if any(header == p or header.startswith(p) for p in prefixes):
                        if not any(rel == p or rel.startswith(p.rstrip("*")) for p in places):
                            problems.append(f"{rel}:{n}: {header} ({vendor}) may appear only in "
                                            f"{', '.join(places)}")

    return problems, len(modules), len(rules)


def self_test():
    """The checker finds what it must in a small made-up tree."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "src" / "a").mkdir(parents=True)
        (root / "src" / "b").mkdir(parents=True)
        (root / "apps").mkdir()
        (root / "src" / "README.md").write_text(
            "| module | what | may use |\n|---|---|---|\n| `a` | x | core |\n| `b` | y | a |\n\n"
            "| vendor | headers | only in |\n|---|---|---|\n| V | `v.h` | `src/b/v.cpp` |\n")
        (root / "src" / "a" / "CMakeLists.txt").write_text("quant_add_library(a SOURCES a.cpp PUBLIC_DEPS quant::b)\n")
        (root / "src" / "b" / "CMakeLists.txt").write_text("quant_add_library(b SOURCES b.cpp PUBLIC_DEPS quant::a)\n")
        (root / "src" / "a" / "a.h").write_text('#include "b/b.h"\n#include <v.h>\n')
        (root / "src" / "a" / "a_test.cpp").write_text('#include "b/b.h"\n#include <v.h>\n')  # tests may
        (root / "src" / "b" / "b.h").write_text('#include "a/a.h"\n')
        (root / "src" / "b" / "v.cpp").write_text("#include <v.h>\n")
        (root / "src" / "a" / "README.md").write_text("# a\nLinks: b.\n")
        (root / "src" / "b" / "README.md").write_text("# b\nLinks nothing it names.\n")
        problems, _, _ = check(root)
        text = "\n".join(problems)
        expected = ["src/a/a.h:1: a includes b/b.h", "a links quant::b", "src/a/a.h:2: v.h (V) may appear only in",
                    "src/b/README.md: b links quant::a"]
        missing = [e for e in expected if e not in text]
        unexpected = [p for p in problems if "a_test.cpp" in p or p.startswith("src/b/v.cpp")]
        if missing or unexpected or len(problems) != 4:
            print("self-test failed:\n" + text)
            return 1
    print("self-test passed: includes, links, READMEs and vendor headers are checked; tests are exempt")
    return 0


def main():
    if "--self-test" in sys.argv:
        return self_test()
    problems, modules, rules = check(ROOT)
    for p in problems:
        print(p)
    if problems:
        print(f"layering: {len(problems)} problem(s) (the rules are the tables in src/README.md)")
        return 1
    print(f"layering holds: {modules} modules, {rules} vendor rules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
