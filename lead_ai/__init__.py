"""lead_ai: hourly lead-volume forecasting, shared by every Lambda function as a layer.

Importing the package is free: submodules are imported where they are used, so the
prediction path never pays for training libraries.
"""
