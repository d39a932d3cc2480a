"""Training: rows -> fit -> backtest (blend, scores, calibration) -> export (ONNX + parity) -> train."""
