"""The data directory does not depend on the current directory, and no command creates anything
outside it (issue 12). Before: the default was `./var` of wherever a command ran, and importing the
settings created it with a Django secret inside, which is how `src/tipline/var/keys/
django-secret.key` ended up committed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.live import TIPLINE
from tipline.settings import data_dir

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "src" / "tipline"
# Caches that Python and the tools write wherever they run; everything else counts.
_NOT_COUNTED = {".git", ".venv", "__pycache__", "node_modules", ".pytest_cache", ".mypy_cache"}
_NOT_COUNTED |= {".ruff_cache", "test-artifacts"}


def files_under(root: Path) -> set[Path]:
    found = set()
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _NOT_COUNTED]
        found.update(Path(folder, name) for name in files)
        found.update(Path(folder, name) for name in dirs)
    return found


def tipline(*args: str, cwd: Path, data: Path | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TIPLINE_DATA_DIR", "DATABASE_URL")}
    env["DJANGO_SETTINGS_MODULE"] = "tipline.settings"
    if data is not None:
        env["TIPLINE_DATA_DIR"] = str(data)
    return subprocess.run(
        [*TIPLINE, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def test_a_checkout_keeps_its_data_in_var_at_its_root() -> None:
    assert data_dir({}, PACKAGE) == REPO / "var"
    assert data_dir({"TIPLINE_DATA_DIR": "/srv/tipline/data"}, PACKAGE) == Path("/srv/tipline/data")


def test_an_installed_copy_must_be_told_where_its_data_is(tmp_path: Path) -> None:
    installed = tmp_path / "lib" / "python3.12" / "site-packages" / "tipline"
    installed.mkdir(parents=True)
    with pytest.raises(ImproperlyConfigured, match="TIPLINE_DATA_DIR is not set"):
        data_dir({}, installed)
    # Another project's checkout is not Tipline's.
    (tmp_path / "lib" / "python3.12" / "pyproject.toml").write_text('[project]\nname = "x"\n')
    with pytest.raises(ImproperlyConfigured, match="TIPLINE_DATA_DIR is not set"):
        data_dir({}, installed)


@pytest.mark.parametrize("where", ["another folder", "src/tipline"])
def test_the_default_does_not_depend_on_the_current_directory(tmp_path: Path, where: str) -> None:
    cwd = tmp_path if where == "another folder" else PACKAGE
    shown = tipline("diffsettings", "--all", cwd=cwd, data=None)
    # diffsettings skips the system checks: it works even where no keys exist yet.
    assert shown.returncode == 0, shown.stderr
    assert f"DATA_DIR = PosixPath('{REPO / 'var'}')" in shown.stdout


@pytest.mark.parametrize("where", ["another folder", "src/tipline"])
def test_commands_create_nothing_outside_the_data_directory(tmp_path: Path, where: str) -> None:
    cwd = tmp_path / "cwd" if where == "another folder" else PACKAGE
    cwd.mkdir(exist_ok=True)
    data = tmp_path / "data"
    before = files_under(REPO) | files_under(cwd)

    assert tipline("--help", cwd=cwd, data=data).returncode == 0
    for args in (["keys", "status"], ["check"], ["migrate", "--no-input"]):
        refused = tipline(*args, cwd=cwd, data=data)
        assert refused.returncode != 0, args
        assert "run `tipline keys init`" in refused.stderr, args
    assert not data.exists()  # no command but `keys init` makes the data directory

    assert tipline("keys", "init", cwd=cwd, data=data).returncode == 0
    for args in (["migrate", "--no-input", "-v", "0"], ["check"], ["keys", "status"]):
        done = tipline(*args, cwd=cwd, data=data)
        assert done.returncode == 0, (args, done.stderr)

    assert files_under(REPO) | files_under(cwd) == before
    assert (data / "keys" / "kek-1.key").is_file()
    assert (data / "tipline.sqlite3").is_file()


def test_no_data_directory_is_in_the_repository() -> None:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    tracked = subprocess.run(
        ["git", "ls-files"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert [path for path in tracked if "var" in Path(path).parts] == []
    assert [path for path in tracked if path.endswith(".key")] == []
