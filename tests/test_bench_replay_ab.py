import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_replay_ab.py"


def test_ab_benchmark_reviews_the_reference_commit_beside_this_checkout():
    output = subprocess.run([sys.executable, str(SCRIPT), "--reference", "HEAD", "--buffer",
                             "2000", "--repeats", "6"], check=True, capture_output=True,
                            text=True).stdout
    result = json.loads(output)
    assert result["reference"] == "HEAD" and result["repeats"] == 6
    assert result["reference_review_ms"] > 0 and result["current_review_ms"] > 0
    low, high = result["ratio_95ci"]
    assert low <= result["ratio_median"] <= high
