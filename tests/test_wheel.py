"""A wheel, as an office installs it: built without warnings, installed into a clean venv, and
serving the rating page and its static files from there, outside this source tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import urllib.request
from pathlib import Path

from ratingsvc.embedded import free_port
from tests.helpers import stop, wait_for

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["ratingsvc", "qr", "pyproject.toml", "README.md"]


def build_wheel(src: Path, dist: Path) -> tuple[Path, str]:
    """(the wheel, what the build printed): pip in the source's copy, so nothing is written here."""
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "-w", str(dist),
                           str(src)], capture_output=True, text=True, cwd=src)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return next(dist.glob("ratingsvc-*.whl")), done.stdout + done.stderr


def warnings_in(log: str) -> list[str]:
    """setuptools' warnings (pip's own about its package index locations aside)."""
    return [line for line in log.splitlines()
            if ("warn" in line.lower() or "deprecat" in line.lower())
            and "WARNING: Location" not in line and "byte-compiling is disabled" not in line]


def answers(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as resp:
        return resp.status == 200


def test_a_wheel_installed_in_a_clean_venv_serves_the_rating_page(tmp_path, h, redis_server):
    src = tmp_path / "src"
    for name in SOURCES:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy2
        copy(ROOT / name, src / name, **({"ignore": shutil.ignore_patterns("__pycache__")}
                                         if (ROOT / name).is_dir() else {}))
    wheel, log = build_wheel(src, tmp_path / "dist")
    assert warnings_in(log) == []
    assert "ratingsvc.lua" not in log.replace("ratingsvc/lua", "")

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                    "--no-deps", "--no-index", str(wheel)], check=True, capture_output=True)
    # The dependencies from this venv's site-packages: PYTHONPATH reads no .pth file, so the
    # editable install of this source tree does not come along.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RATINGSVC_", "PYTHON"))}
    env.update(PYTHONPATH=sysconfig.get_paths()["purelib"], RATINGSVC_REDIS_URL=redis_server.url,
               RATINGSVC_PROXY_HOPS="0")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    where = subprocess.run([str(python), "-c", "import ratingsvc; print(ratingsvc.__file__)"],
                           env=env, cwd=outside, capture_output=True, text=True, check=True)
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout

    window = h.window()
    port = free_port()
    with open(tmp_path / "gunicorn.log", "w") as log_file:
        app = subprocess.Popen([str(python), "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
                                "--workers", "1", "ratingsvc:create_app()"],
                               env=env, cwd=outside, stdout=log_file, stderr=log_file)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: answers(f"{base}/healthz"))
        with urllib.request.urlopen(f"{base}/r/{h.token(window)}", timeout=10) as resp:
            page = resp.read().decode()
        assert resp.status == 200 and "/static/rate.js" in page
        with urllib.request.urlopen(f"{base}/static/rate.js", timeout=10) as resp:
            assert resp.status == 200 and resp.read() == (ROOT / "ratingsvc/static/rate.js").read_bytes()
        with urllib.request.urlopen(f"{base}/static/vendor/weui-2.6.26/weui.min.css", timeout=10) as resp:
            assert resp.status == 200
        with urllib.request.urlopen(f"{base}/console/login", timeout=10) as resp:  # the console's templates
            login = resp.read().decode()
        assert resp.status == 200 and "登录" in login and "/static/console/console.css?v=" in login
        for asset in ("console/console.css", "console/console.js", "vendor/htmx-2.0.11/htmx.min.js",
                      "vendor/echarts-6.1.0/echarts.simple.min.js"):
            with urllib.request.urlopen(f"{base}/static/{asset}", timeout=10) as resp:
                assert resp.status == 200, asset
    finally:
        stop(app)
