"""Training probe: train_forecaster with production settings (backtest, ONNX export, parity) on hourly
synthetic leads, in a fresh process on the TrainFunction bundle (which, like Lambda, has no onnxruntime:
parity runs on onnx.reference). Wall time and peak RSS (ru_maxrss).

usage: python3.12 -S -B train_cost.py CONFIG.json RESULT.json   (PYTHONPATH: the lead_ai and training
layers). CONFIG names an .npy file of counts made by the orchestrator: the synthetic-data generator is a
developer tool (lead_ai_dev), not in the bundle.
"""

import resource
import sys
import time

import numpy as np
from probe_support import read_config, write_result

from lead_ai.forecasting.training.train import SeriesData, TrainingSettings, train_forecaster


def parity_engine() -> str:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return "onnx.reference"
    return "onnxruntime"


def main(config_path: str, result_path: str) -> None:
    config = read_config(config_path)
    counts = np.load(config["counts_npy"])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result = train_forecaster(
        [SeriesData("train-bench", counts.astype(float), int(config["first_timestamp"]), 3600)],
        TrainingSettings(max_horizon=168, min_points=1000),
    )
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    write_result(
        result_path,
        {
            "points": int(counts.size),
            "seconds": seconds,
            "peak_rss_mib": peak / 1024,
            "rss_before_mib": before / 1024,
            "onnx_bytes": len(result.onnx_bytes),
            "mase": result.metrics.get("mase"),
            "training_rows": result.metrics.get("training_rows"),
            "parity_engine": parity_engine(),
        },
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
