"""The README stays true about configuration."""

from pathlib import Path

from ratingsvc.settings import SETTINGS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme_with_its_meaning():
    for name, (_, meaning) in SETTINGS.items():
        assert f"| `RATINGSVC_{name}` |" in README and meaning in README, name
