"""Training-cost probe of the accuracy benchmark: train_forecaster with production settings (horizon 168,
backtest, ONNX export, parity) on one year of hourly values, in a fresh process so that its peak RSS is the
training's own. Prints one JSON line: wall time, peak RSS, model size, backtest MASE.

usage: python benchmarks/accuracy_train_year.py VALUES.npy   (benchmarks/accuracy.py runs it with the
working tree first on PYTHONPATH, so that it trains with this tree's lead_ai)
"""

from __future__ import annotations

import json
import resource
import sys
import time

import numpy as np

from lead_ai.forecasting.training.train import SeriesData, TrainingSettings, train_forecaster


def main(values_path: str) -> None:
    values = np.load(values_path)
    started = time.perf_counter()
    result = train_forecaster([SeriesData("bike", values, 0, 3600)], TrainingSettings(max_horizon=168))
    wall = time.perf_counter() - started
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "wall_s": wall,
                "peak_rss_mb": peak_rss_mb,
                "model_bytes": len(result.onnx_bytes),
                "backtest_mase": result.metrics["mase"],
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
