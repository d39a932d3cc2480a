"""The forecasting core, free of AWS and HTTP.

Serving side (numpy + onnxruntime): features, calendar, calibration, artifact_format, inference, scoring.
Training side (scikit-learn, skl2onnx, onnx): the `training` package, which serving never imports.
"""
