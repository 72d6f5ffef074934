"""1,000 posters in one PDF, against the same pages without their QR codes.

    .venv/bin/python bench/posters.py [--count 1000] [--format a4]
"""

from __future__ import annotations

import argparse
import statistics
import time

from qr import poster
from qr.poster import Poster


def timed(fn) -> float:
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--format", default="a4", choices=sorted(poster.FORMATS))
    args = parser.parse_args()
    pages = [Poster(f"蔡甸区第{i}号单位", f"{i % 9 + 1}号窗口",
                    f"HTTPS://PJ.CAIDIAN.GOV.CN/R/AE{i:019d}", f"W{i:06d}-1",
                    "评议期 2026年5月1日至2026年9月30日") for i in range(args.count)]
    size = len(poster.render(pages, args.format))
    full = timed(lambda: poster.render(pages, args.format))
    real_qr = poster.draw_qr
    poster.draw_qr = lambda *a: None  # the baseline: the same pages, words only
    try:
        words = timed(lambda: poster.render(pages, args.format))
    finally:
        poster.draw_qr = real_qr
    print(f"{args.count} {args.format} posters in one PDF: {full:.2f} s "
          f"({args.count / full:,.0f}/s), {size / 1e6:.1f} MB")
    print(f"the same pages without QR codes: {words:.2f} s; posters take {full / words:.1f}x")


if __name__ == "__main__":
    main()
