#!/usr/bin/env python3
"""Every `quant` command and flag the docs show exists.

Reads the code the documentation shows — fenced blocks and inline code spans of
README.md, docs/**/*.md and src/*/README.md, and the command lines of the
deployment files (deploy/**, config/systemd, config/cron) — finds each call of
`quant`, follows its subcommands the way the binary knows them, and runs
`quant <subcommands> --help` for each. A call fails when a word after `quant`
is neither a known subcommand, a positional argument of a command that takes
them, nor an option; when a flag is not in the help of its command or of a
parent (options fall through); or when `--help` fails.

usage: doc_commands_test.py QUANT_BINARY [REPO_ROOT]
       doc_commands_test.py --self-test QUANT_BINARY
"""

from __future__ import annotations

import pathlib
import re
import shlex
import subprocess
import sys

DOC_GLOBS = ["README.md", "docs/**/*.md", "src/*/README.md", "mt5/**/*.md", "bench/**/*.md", "config/**/*.md",
             "deploy/**/*.md"]
# Fenced blocks labelled text, diagram, toml, json, sql, promql or yaml are not shell: not read.
# Files read as shell: every line (comments too, where they show commands).
COMMAND_GLOBS = ["deploy/**/*.service", "deploy/**/*.timer", "deploy/**/*.sh",
                 "config/systemd/*", "config/cron/*", "scripts/demo.sh"]

SHELL_STOP = {"|", "||", "&&", ";", "&", ">", ">>", "2>", "2>&1", "<", "#", ")", "`"}


class Help:
    """What `quant ... --help` says: the options and subcommands of each command path."""

    def __init__(self, binary: str):
        self.binary = binary
        self.cache: dict[tuple[str, ...], tuple[int, set[str], set[str], bool]] = {}

    def of(self, path: tuple[str, ...]):
        if path not in self.cache:
            proc = subprocess.run([self.binary, *path, "--help"], capture_output=True, text=True, timeout=60)
            options: set[str] = set()
            subcommands: set[str] = set()
            positionals = False
            section = ""
            for line in proc.stdout.splitlines():
                if re.match(r"^(Options|OPTIONS)\s*:", line):
                    section = "options"
                    continue
                if re.match(r"^(Subcommands|SUBCOMMANDS)\s*:", line):
                    section = "subcommands"
                    continue
                if re.match(r"^(Positionals|POSITIONALS)\s*:", line):
                    section = "positionals"
                    positionals = True
                    continue
                if not line.startswith("  "):
                    section = "" if line.strip() == "" else section
                    continue
                body = line.strip()
                if section == "options" and body.startswith("-"):
                    names = body.split()[0]
                    for name in names.split(","):
                        options.add(name.split("=")[0])
                elif section == "subcommands" and body:
                    subcommands.add(body.split()[0])
            if re.search(r"^Usage: .*\[(args|ARGS|[a-z_]+)\]|^Usage: .* [a-z_]+\b", proc.stdout, re.M):
                pass
            self.cache[path] = (proc.returncode, options, subcommands, positionals)
        return self.cache[path]


def shell_words(line: str) -> list[str]:
    """Words of one shell line; quotes kept together, a comment cut."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars="|&;<>()")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    words = []
    try:
        for w in lexer:
            words.append(w)
    except ValueError:  # an unbalanced quote: split plainly, up to a comment
        words = line.split(" #")[0].split()
    return words


ALIASES = {"$Q", "${Q}", "$QUANT", "${QUANT}"}  # how scripts and the README name the binary


def is_quant(word: str, functions: frozenset[str] = frozenset()) -> bool:
    return word == "quant" or word.endswith("/quant") or word in ALIASES or word in functions


def calls_in(text: str):
    """Word lists following each `quant` in a piece of shell, line by line."""
    # a shell function wrapping the binary, e.g. q() { "$QUANT" --config … "$@"; }
    functions = frozenset(re.findall(r"^\s*(\w+)\(\)\s*\{\s*\"?\$\{?(?:QUANT|Q)\b", text, re.M))
    for line in text.replace("\\\n", " ").splitlines():
        words = shell_words(line)
        for i, w in enumerate(words):
            if not is_quant(w, functions):
                continue
            prev = words[i - 1] if i > 0 else ""
            # `--database quant`, `cd /x/quant`, `< quant …`: a word, not the command
            if prev.startswith("-") or prev in {"cd", "mkdir", "ls", "cat", "rm", "cp", "chown", "useradd", "<", ">"}:
                continue
            call = []
            for x in words[i + 1:]:
                if x in SHELL_STOP or set(x) <= set("|&;<>()"):
                    break
                call.append(x)
            # prose or a diagram (`quant ──► …`, `quant and the tables`) is not a call
            first = next((clean(x) for x in call if not x.startswith("-")), "")
            if call and first and not re.fullmatch(r"[a-z][a-z0-9_-]*|\$.*|[/.~\w].*", first):
                continue
            yield call


EXEC = re.compile(r"^(ExecStart|ExecStartPre|ExecStartPost|ExecStop|ExecReload)=")


def exec_line(line: str) -> str:
    """The command of a unit's Exec line (its prefix characters cut)."""
    return EXEC.sub("", line.strip()).lstrip("-@+!:")


def code_of_markdown(text: str):
    """(line number, code) of fenced blocks and inline spans."""
    in_fence = False
    fence_start = 0
    fence_lang = ""
    block: list[str] = []
    for n, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            if in_fence:
                if fence_lang in {"ini", "systemd"}:  # a unit: its Exec lines are commands
                    yield fence_start, "\n".join(exec_line(x) for x in block if EXEC.match(x.strip()))
                elif fence_lang not in {"text", "diagram", "toml", "json", "sql", "promql", "yaml"}:
                    yield fence_start, "\n".join(block)  # shell, or unlabelled
                block = []
            else:
                fence_start = n + 1
                fence_lang = line.strip()[3:].strip().lower()
            in_fence = not in_fence
            continue
        if in_fence:
            # A comment line in a block is prose unless it shows a command.
            block.append(line)
            continue
        for span in re.findall(r"`([^`]+)`", line):
            yield n, span


def clean(word: str) -> str:
    return word.strip("[]{}").rstrip(",.:")


def check_call(help_: Help, call: list[str], where: str, errors: list[str], checked: set[tuple[str, ...]]):
    path: tuple[str, ...] = ()
    rc, options, subcommands, positionals = help_.of(path)
    known_options = set(options)
    i = 0
    expect_value = False
    while i < len(call):
        raw = call[i]
        word = clean(raw)
        i += 1
        if not word or word in {"...", "…"}:
            continue
        if "$" in word and not word.startswith("-"):
            if word in {"$@", "$*"} or not path:
                return  # the caller's own arguments, or a subcommand held in a variable: not known here
            expect_value = False  # a variable: an option's value or a positional argument
            continue
        if raw.startswith("[") and raw.endswith("]") and not word.startswith("-"):
            continue  # an optional placeholder such as [FILE]
        if word.startswith("-"):
            name = word.split("=")[0]
            if name in {"-h", "--help"}:
                continue
            if re.fullmatch(r"-[0-9.]+", name):
                expect_value = False
                continue  # a negative number
            if name not in known_options:
                errors.append(f"{where}: quant {' '.join(path)}: no option {name} (call: quant {' '.join(call)})")
            expect_value = "=" not in word
            continue
        if word in subcommands:
            path = path + (word,)
            rc, options, subcommands, positionals = help_.of(path)
            if rc != 0:
                errors.append(f"{where}: quant {' '.join(path)} --help exits {rc}")
            known_options |= options
            expect_value = False
            continue
        if expect_value:
            expect_value = False  # the previous option's value (or a positional: both fine)
            continue
        if subcommands and not positionals and not path:
            errors.append(f"{where}: quant: no subcommand '{word}' (call: quant {' '.join(call)})")
            return
        if subcommands and not positionals:
            errors.append(f"{where}: quant {' '.join(path)}: no subcommand '{word}' (call: quant {' '.join(call)})")
            return
        # a positional argument
    if path:
        checked.add(path)
    elif call and not any(clean(w).startswith("-") for w in call):
        pass


def run(binary: str, root: pathlib.Path) -> int:
    help_ = Help(binary)
    rc, _, top, _ = help_.of(())
    if rc != 0 or not top:
        print(f"{binary} --help failed or lists no subcommands", file=sys.stderr)
        return 1
    errors: list[str] = []
    checked: set[tuple[str, ...]] = set()
    calls = 0
    for pattern in DOC_GLOBS:
        for f in sorted(root.glob(pattern)):
            if "third_party" in f.parts or "build" in f.parts:
                continue
            for line, code in code_of_markdown(f.read_text(encoding="utf-8")):
                for call in calls_in(code):
                    calls += 1
                    check_call(help_, call, f"{f.relative_to(root)}:{line}", errors, checked)
    for pattern in COMMAND_GLOBS:
        for f in sorted(root.glob(pattern)):
            if not f.is_file():
                continue
            text = f.read_text(encoding="utf-8")
            for n, line in enumerate(text.splitlines(), 1):
                line = exec_line(line)
                if "cron" in f.parts and not line.startswith("#") and len(line.split()) > 6:
                    line = " ".join(line.split()[6:])  # m h dom mon dow user command
                line = line.lstrip("#").strip()
                for call in calls_in(line):
                    calls += 1
                    check_call(help_, call, f"{f.relative_to(root)}:{n}", errors, checked)
    for e in errors:
        print(e, file=sys.stderr)
    print(f"{calls} quant calls in the docs, {len(checked)} commands: "
          f"{', '.join(' '.join(p) for p in sorted(checked))}")
    if errors:
        print(f"{len(errors)} problems", file=sys.stderr)
        return 1
    if calls < 20:
        print("suspiciously few quant calls found: is the extraction broken?", file=sys.stderr)
        return 1
    return 0


def self_test(binary: str) -> int:
    """The checker itself finds what it must: a missing flag, a missing subcommand, a good call."""
    help_ = Help(binary)
    cases = [
        (["live", "--symbols", "WIN", "--state", "s"], 0),
        (["--config", "c.toml", "backtest", "-s", "WIN"], 0),
        (["live", "--no-such-flag"], 1),
        (["no-such-command", "--x"], 1),
        (["lake", "ls"], 0),
        (["lake", "no-such-sub"], 1),
    ]
    failed = 0
    for call, want in cases:
        errors: list[str] = []
        check_call(help_, call, "self-test", errors, set())
        if (len(errors) > 0) != bool(want):
            print(f"self-test: quant {' '.join(call)}: expected {'an error' if want else 'no error'}, got {errors}",
                  file=sys.stderr)
            failed += 1
    md = "run it:\n```sh\nquant --lake /tmp/l backtest -s WIN | tee x # comment quant nothing\n```\nthen `quant halt --status`."
    found = [c for _, code in code_of_markdown(md) for c in calls_in(code)]
    if found != [["--lake", "/tmp/l", "backtest", "-s", "WIN"], ["halt", "--status"]]:
        print(f"self-test: extraction gave {found}", file=sys.stderr)
        failed += 1
    print("self-test " + ("failed" if failed else "passed"))
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--self-test":
        sys.exit(self_test(sys.argv[2]))
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    root = pathlib.Path(sys.argv[2]) if len(sys.argv) > 2 else pathlib.Path(__file__).resolve().parents[2]
    sys.exit(run(sys.argv[1], root))
