"""End-to-end `assess` throughput of this checkout against another git revision: same model, same slices.

A code change's speed can only be judged against the old code measured in the same run (one machine's speed
drifts by 10-20% between runs). Each side runs in its own Python process on its own copy of ``src/``, loads
the model and the decoded slices once, then the two take turns: in each round every slice goes from decoded
HU pixels to a JSON line (preprocess + caption + scores + json.dumps), batched as `radscribe assess` does.
The captions of both sides are compared too, so a speed-up that changes the output shows.

    .venv/bin/python benchmarks/ctiqa_assess_speed.py --data ctiqa-mix-w25-real-sk50 --against HEAD~4 --size 256

``--model`` defaults to this checkout's shipped captioner (given to both sides). SYNTHETIC slices unless
``--data`` points at real ones.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Runs in each side's process: argv[1] the src/ folder to import, argv[2] the settings as JSON.
WORKER = r"""
import hashlib, json, sys, time
sys.path.insert(0, sys.argv[1])
settings = json.loads(sys.argv[2])
import radscribe
from radscribe.io import read_image
from radscribe.iqagpt.assess import load_assessor

assessor = load_assessor(settings["model"], threads=settings["threads"])
images = []
for record in settings["records"]:
    for image in read_image(record["path"]):
        # written out, not radscribe's record_spacing: the worker must also run older revisions' src/
        mm = record.get("pixel_spacing_mm") or image.spacing_mm
        image.meta.pixel_spacing = (mm, mm) if mm else image.meta.pixel_spacing
        images.append(image)
assessor.assess(images[:32])  # warm-up: first calls allocate
print(json.dumps({"slices": len(images), "radscribe": radscribe.__file__}), flush=True)
for _ in sys.stdin:
    t0 = time.perf_counter()
    rows = assessor.assess(images)
    _ = [json.dumps(row) for row in rows]  # the JSON lines assess writes are part of the work timed
    rate = len(images) / (time.perf_counter() - t0)
    digest = hashlib.sha256("\n".join(row["caption"] for row in rows).encode()).hexdigest()[:16]
    print(json.dumps({"rate": rate, "captions": digest}), flush=True)
"""


def export_src(revision: str, into: Path) -> Path:
    """``src/`` of ``revision`` (any git revision of this repository) unpacked under ``into``."""
    archive = into / "src.tar"
    subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", "-o", str(archive), revision, "src"], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def pick_records(data: Path, split: str, size: int | None, n: int) -> list[dict]:
    """The first ``n`` records of ``split`` (made at ``size`` px when given), with absolute image paths."""
    lines = (data / "annotations.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    picked = [r for r in records if r.get("split") == split and (size is None or r.get("size") == size)][:n]
    if not picked:
        sys.exit(f"{data}: no {split!r} slices{f' made at {size} px' if size else ''}")
    return [{"path": str(data / r["image"]), "pixel_spacing_mm": r.get("pixel_spacing_mm")} for r in picked]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="a CT-IQA dataset folder (annotations.jsonl)")
    parser.add_argument("--split", default="test", help="which split's slices (default: test)")
    parser.add_argument("--size", type=int, default=None, help="only slices made at this many pixels (e.g. 256)")
    parser.add_argument("--against", required=True, help="the git revision to compare with (e.g. HEAD~3, a tag)")
    parser.add_argument("--model", default=None, help="checkpoint folder (default: this checkout's shipped one)")
    parser.add_argument("--n", type=int, default=256, help="slices per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None, help="also write the rounds here")
    args = parser.parse_args()

    sys.path.insert(0, str(REPO / "src"))
    from radscribe.iqagpt.checkpoint import SHIPPED_DIR

    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", args.against], check=True,
                            capture_output=True, text=True).stdout.strip()
    settings = {"model": str(args.model or SHIPPED_DIR), "threads": args.threads,
                "records": pick_records(args.data, args.split, args.size, args.n)}
    with tempfile.TemporaryDirectory() as tmp:
        sides = {"this checkout": REPO / "src", f"against {args.against}": export_src(args.against, Path(tmp))}
        workers = {name: subprocess.Popen([sys.executable, "-c", WORKER, str(src), json.dumps(settings)],
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                   for name, src in sides.items()}
        try:
            for name, worker in workers.items():  # loading happens in parallel; rounds never overlap
                print(f"{name}: {json.loads(worker.stdout.readline())}", flush=True)
            rounds: dict[str, list[dict]] = {name: [] for name in workers}
            for r in range(args.rounds):
                for name, worker in workers.items():
                    worker.stdin.write("go\n")
                    worker.stdin.flush()
                    rounds[name].append(json.loads(worker.stdout.readline()))
                new, old = (rounds[name][-1]["rate"] for name in workers)
                print(f"round {r + 1}: this checkout {new:.1f} slices/s, against {old:.1f} (ratio {new / old:.3f})",
                      flush=True)
        finally:
            for worker in workers.values():
                worker.stdin.close()
                worker.wait()
    names = list(workers)
    ratio = statistics.median(a["rate"] / b["rate"] for a, b in zip(rounds[names[0]], rounds[names[1]]))
    same = {row["captions"] for rows in rounds.values() for row in rows}
    print(f"median ratio this checkout / {args.against}: {ratio:.3f}; median slices/s "
          + ", ".join(f"{name} {statistics.median(row['rate'] for row in rows):.1f}" for name, rows in rounds.items())
          + f"; captions {'identical' if len(same) == 1 else 'DIFFER'} ({len(settings['records'])} slices of "
          f"{args.data.name}, split {args.split}{f', made at {args.size} px' if args.size else ''})")
    if args.json:
        args.json.write_text(json.dumps({"rounds": rounds, "median_ratio": ratio, "captions_identical": len(same) == 1,
                                         "against": f"{args.against} ({commit})", "data": str(args.data), "settings": {
                                             k: v for k, v in settings.items() if k != "records"},
                                         "n": len(settings["records"])}, indent=2) + "\n")


if __name__ == "__main__":
    main()
