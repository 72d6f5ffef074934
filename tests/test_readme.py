"""The README stays true about configuration."""

from pathlib import Path

from ratingsvc.settings import markdown_table

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_the_settings_table_in_the_readme_is_the_current_one():
    start = README.index("<!-- settings:")
    table = README[README.index("\n", start) + 1:README.index("\n<!-- /settings -->")]
    assert table == markdown_table(), "run: python -m ratingsvc.settings --readme README.md"
