"""Benchmark the IQAGPT captioner against the image-only baselines (SYNTHETIC data).

Thin wrapper around `radscribe benchmark ctiqa`, so the numbers in docs/iqagpt.md can be
reproduced with one command:

    python benchmarks/ctiqa_models.py --data ctiqa --real-data ctiqa-heldout --out reports/ctiqa

All flags are passed through; see `radscribe benchmark ctiqa --help`. Prints the report's
summary table (|PLCC|+|SROCC|+|KROCC| per method and split) when done.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    code = subprocess.call([sys.executable, "-m", "radscribe", "benchmark", "ctiqa", *argv])
    if "--out" in argv:
        report = Path(argv[argv.index("--out") + 1]) / "report.json"
        if report.is_file():
            for split in json.loads(report.read_text())["splits"]:
                print(f"{split['split']} (n={split['n']}, SYNTHETIC)")
                for m in split["methods"]:
                    print(f"  {m['method']:<60} {m['sum_abs'] if m['sum_abs'] is not None else '-'}")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
