"""``deploy/``: the Dockerfile, the compose file and the systemd unit say what the bot reads.
(Checked as text here: a test machine has no container engine running. Each check fails on the
mistake it names: an install that isn't the README's, a package left out of the image, a
variable the bot doesn't read, a unit file systemd can't load.)"""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from adapters.discord.settings import DiscordSettings
from adapters.slack.config import SlackSettings
from bot.config import Settings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
# Read by the Python runtime or the PostgreSQL image, not by the bot's settings.
NOT_OURS = {"PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "PIP_NO_CACHE_DIR",
            "PIP_DISABLE_PIP_VERSION_CHECK", "MPLCONFIGDIR",
            "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"}


def bot_variables() -> set[str]:
    return {name.upper() for cls in (Settings, SlackSettings, DiscordSettings)
            for name in cls.model_fields}


def readme_install() -> str:
    """The README's first command, without the part that runs the bot."""
    readme = (ROOT / "README.md").read_text()
    line = next(ln.strip() for ln in readme.splitlines() if "pip install -e ." in ln)
    return line.removesuffix("&& .venv/bin/whosnext").strip()


def test_the_image_is_built_with_the_readmes_install_command():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    runs = [ln.removeprefix("RUN ").strip() for ln in dockerfile.splitlines()
            if ln.startswith("RUN ")]
    assert readme_install() in runs


def test_the_image_holds_every_package_and_nothing_secret():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    copied = set(re.findall(r"^COPY (?:--\S+ )*(.+?) \S+$", dockerfile, re.M))
    sources = {word for line in copied for word in line.split()}
    assert {p.split(".")[0] for p in packages} <= sources
    assert not [s for s in sources if s in (".", ".env") or s.endswith(".db")]
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".venv", "*.db", ".git"} <= set(ignored)


def test_every_variable_set_in_deploy_is_one_the_bot_reads():
    compose = (DEPLOY / "compose.yaml").read_text()
    unit = (DEPLOY / "whosnext@.service").read_text()
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    found = set(re.findall(r"^\s{6}([A-Z][A-Z0-9_]+):", compose, re.M))
    for line in re.findall(r"^Environment=(.+)$", unit, re.M):
        found |= {pair.split("=")[0] for pair in line.split()}
    found |= set(re.findall(r"\b([A-Z][A-Z0-9_]+)=", "\n".join(
        ln for ln in dockerfile.splitlines() if not ln.lstrip().startswith("#"))))
    assert found, "no variables found: the patterns no longer match the files"
    assert found - NOT_OURS <= bot_variables(), found - NOT_OURS - bot_variables()
    assert {"DATABASE_URL", "LOG_FORMAT"} <= found


def test_the_compose_file_builds_the_dockerfile_and_waits_for_the_database():
    compose = (DEPLOY / "compose.yaml").read_text()
    assert "dockerfile: deploy/Dockerfile" in compose and "context: .." in compose
    assert "condition: service_healthy" in compose
    assert (DEPLOY / "nginx.conf").exists() and "./nginx.conf" in compose


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="no systemd-analyze here")
def test_systemd_loads_the_unit(tmp_path):
    """``systemd-analyze verify`` on an instance: nothing but the missing install (this
    machine has no /opt/whosnext)."""
    unit = tmp_path / "whosnext@.service"
    unit.write_text((DEPLOY / "whosnext@.service").read_text())
    out = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "whosnext@3001.service")],
                         capture_output=True, text=True, timeout=60)
    complaints = [ln for ln in (out.stdout + out.stderr).splitlines()
                  if ln.strip() and "/opt/whosnext/.venv/bin/whosnext is not executable" not in ln]
    assert not complaints, complaints
