"""Interrupt real sandbox releases at every point with every signal; print the table.

    uv run python bench/chaos.py            # every point x signal, then the next release
    uv run python bench/chaos.py --bounded  # CI's set: the finalize kills + one of each signal

Runs on a throwaway project root with free ports (never a user's own sandbox) and
prints a markdown table: whether each case converged, in how many seconds after the
interruption, and how many of the probe's requests through the router failed. Its last
line is JSON with the counts.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from petswipe_ops.chaos import ChaosRunner, default_cases, render_table, scratch_root  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bounded", action="store_true", help="CI's bounded set of cases")
    parser.add_argument("--no-next-release", action="store_true", help="skip the next release")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="petswipe-chaos-") as base:
        root, env = scratch_root(Path(base), ROOT)
        up = [sys.executable, "-m", "petswipe_cli.main", "sandbox", "up", "--env", "local"]
        subprocess.run(up, env=env, check=True, timeout=180, capture_output=True)
        runner = ChaosRunner(env, root)
        results = []
        try:
            for point, how in default_cases(args.bounded):
                result = runner.run(point, how, next_release=not args.no_next_release)
                print(f"{point} / {how}: {'converged' if result.converged else result.problems}")
                results.append(result)
        finally:
            down = [sys.executable, "-m", "petswipe_cli.main", "sandbox", "down"]
            subprocess.run(down, env=env, check=False, timeout=120, capture_output=True)
        print()
        print(render_table(results))
        converged = sum(r.converged for r in results)
        print(json.dumps({"cases": len(results), "converged": converged}))
        return 0 if converged == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
