"""Every command the README and docs/ show names something that exists.

A newcomer copies the ```bash / ```sh / ```console blocks into a fresh shell after
``make demo`` (the virtualenv not activated). Each command's program must exist as written:
a make target in the Makefile, a file of this repository (``scripts/``, ``orchestrate/``,
...), a ``.venv/bin`` entry point, a module for ``python -m``, a shell builtin or a program
on PATH; an entry point named bare (``meltano``) only after the page said
``source .venv/bin/activate``. And nothing a user reads points at ``../shared``, which a
clone does not have.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
USER_FACING = [*PAGES, ROOT / "CHANGELOG.md", ROOT / "mkdocs.yml"]
VENV_BIN = Path(sys.executable).parent
ACTIVATE = "source .venv/bin/activate"
BLOCK = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<lang>bash|sh|console)[ \t]*\n(?P<body>.*?)^(?P=indent)```",
    re.MULTILINE | re.DOTALL,
)
BUILTINS = frozenset({"cd", "export", "source", ".", "kill", "echo", "set", "unset", "wait"})
CONTROL = frozenset({"&&", "||", ";", "|", "&", "(", ")"})
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
PYTHONS = frozenset({"python", "python3"})


def _make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z0-9_.-]+):", text, re.MULTILINE))


def _blocks(page: Path) -> list[tuple[int, str, str]]:
    """(offset in the page, language, dedented body) of every shell block."""
    found = []
    for match in BLOCK.finditer(page.read_text()):
        indent = len(match["indent"])
        body = "\n".join(line[indent:] for line in match["body"].splitlines())
        found.append((match.start(), match["lang"], body))
    return found


def _commands(lang: str, body: str) -> list[list[str]]:
    """The simple commands of a block, each as its words (env assignments dropped)."""
    lines = body.replace("\\\n", " ").splitlines()
    if lang == "console":
        lines = [line[2:] for line in lines if line.startswith("$ ")]
    commands = []
    for line in lines:
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        words: list[str] = []
        for token in [*lexer, ";"]:
            if token in CONTROL:
                while words and ASSIGNMENT.match(words[0]):
                    words.pop(0)
                if words and words[0] == "sudo":
                    words.pop(0)
                if words:
                    commands.append(words)
                words = []
            else:
                words.append(token)
    return commands


def _problem(words: list[str], *, activated: bool, venvs: set[str], targets: set[str]) -> str:
    """What is wrong with one command ('' if nothing)."""
    program, args = words[0], words[1:]
    if program in BUILTINS:
        return ""
    if program == "make":
        missing = [a for a in args if not a.startswith("-") and "=" not in a]
        missing = [a for a in missing if a not in targets]
        return f"make target(s) {missing} not in the Makefile" if missing else ""
    return _program_problem(program, activated=activated, venvs=venvs) or _argument_problem(
        program, args
    )


def _program_problem(program: str, *, activated: bool, venvs: set[str]) -> str:
    """The program itself: an entry point, a file, a created venv's, or one on PATH."""
    problem = ""
    if program.startswith(".venv/bin/"):
        if not (VENV_BIN / program.removeprefix(".venv/bin/")).exists():
            problem = f"{program}: no such entry point in the virtualenv"
    elif program.startswith("/"):
        if not any(program.startswith(f"{venv}/bin/") for venv in venvs):
            problem = f"{program}: an absolute path no earlier step of the page creates"
    elif "/" in program:
        if not (ROOT / program).exists():
            problem = f"{program}: no such file in the repository"
    elif (VENV_BIN / program).exists() and not shutil.which(program, path=_system_path()):
        if not activated:
            problem = f"{program}: in .venv/bin only; say `{ACTIVATE}` first or use .venv/bin/"
    elif not shutil.which(program):
        problem = f"{program}: not a program on PATH"
    return problem


def _system_path() -> str:
    """PATH without the virtualenv (a fresh shell's)."""
    return os.pathsep.join(
        p for p in os.environ.get("PATH", "").split(os.pathsep) if Path(p) != VENV_BIN
    )


def _argument_problem(program: str, args: list[str]) -> str:
    """The script or module a python or bash command runs must exist."""
    name = Path(program).name
    if name in PYTHONS and args:
        if args[0] == "-m" and len(args) > 1:
            return "" if importlib.util.find_spec(args[1]) else f"python -m {args[1]}: no module"
        if not args[0].startswith("-") and not (ROOT / args[0]).exists():
            return f"{args[0]}: no such script"
    if name in {"bash", "sh"} and args and not args[0].startswith("-"):
        return "" if (ROOT / args[0]).exists() else f"{args[0]}: no such script"
    return ""


def _page_problems(page: Path) -> list[str]:
    text = page.read_text()
    targets = _make_targets()
    problems = []
    venvs: set[str] = set()
    for offset, lang, body in _blocks(page):
        for words in _commands(lang, body):
            if Path(words[0]).name in PYTHONS and words[1:3] == ["-m", "venv"] and len(words) > 3:
                venvs.add(words[3].rstrip("/"))
            activated = ACTIVATE in text[:offset] or ACTIVATE in body
            problem = _problem(words, activated=activated, venvs=venvs, targets=targets)
            if problem:
                problems.append(f"{page.name}: `{shlex.join(words)}`: {problem}")
    return problems


def test_the_pages_have_shell_blocks_to_check() -> None:
    readme_commands = [
        c for _, lang, body in _blocks(ROOT / "README.md") for c in _commands(lang, body)
    ]
    assert len(readme_commands) >= 10
    assert sum(len(_blocks(page)) for page in PAGES) >= 15


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_command_shown_names_something_that_exists(page: Path) -> None:
    problems = _page_problems(page)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("make demo && make nonesuch", "nonesuch"),
        ("meltano run tap-asos target-s3", "source .venv/bin/activate"),
        (".venv/bin/python scripts/no_such_script.py", "no such script"),
        (".venv/bin/python -m tap_asos.no_such_module", "no module"),
        ("FOO=1 .venv/bin/no-such-entry-point --help", "no such entry point"),
        ("no-such-program-anywhere --version", "not a program on PATH"),
        ("/opt/nowhere/bin/airflow dags list", "absolute path"),
    ],
)
def test_the_checker_catches_what_does_not_exist(
    tmp_path: Path, snippet: str, expected: str
) -> None:
    page = tmp_path / "probe.md"
    page.write_text(f"# probe\n\n```bash\n{snippet}\n```\n")
    problems = _page_problems(page)
    assert len(problems) == 1, problems
    assert expected in problems[0]


def test_a_bare_entry_point_passes_after_activation_and_a_created_venv_is_known() -> None:
    body = (
        "source .venv/bin/activate\nmeltano --version\n"
        "python3 -m venv /opt/x-venv\n/opt/x-venv/bin/pip install apache-airflow\n"
    )
    targets = _make_targets()
    venvs: set[str] = set()
    problems = []
    for words in _commands("bash", body):
        if words[1:3] == ["-m", "venv"]:
            venvs.add(words[3])
        problems.append(_problem(words, activated=True, venvs=venvs, targets=targets))
    assert problems == ["", "", "", ""]


def test_no_user_facing_page_points_at_the_shared_folder() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in USER_FACING if "../shared" in p.read_text()]
    assert not offenders


def _anchors(page: Path) -> set[str]:
    """Heading anchors as mkdocs' toc extension makes them."""
    anchors = set()
    for heading in re.findall(r"^#{1,6} (.+)$", page.read_text(), re.MULTILINE):
        slug = re.sub(r"[^\w\s-]", "", heading.replace("`", "")).strip().lower()
        anchors.add(re.sub(r"[-\s]+", "-", slug))
    return anchors


def test_the_readme_links_to_pages_and_anchors_that_exist() -> None:
    links = re.findall(r"\]\((docs/[^)#]+)(?:#([^)]+))?\)", (ROOT / "README.md").read_text())
    assert len(links) >= 10
    for path, anchor in links:
        page = ROOT / path
        assert page.exists(), path
        assert not anchor or anchor in _anchors(page), f"{path}#{anchor}"
