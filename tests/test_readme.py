"""The README stays true about configuration."""

import re
from pathlib import Path

from ratingsvc.settings import markdown_table

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_settings_table_in_the_readme_is_the_current_one():
    start = README.index("<!-- settings:")
    table = README[README.index("\n", start) + 1:README.index("\n<!-- /settings -->")]
    assert table == markdown_table(), "run: python -m ratingsvc.settings --readme README.md"


def test_the_readmes_screenshots_are_committed_pngs():
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README)
    assert len(images) >= 2
    for path in images:
        assert (ROOT / path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
