"""The use cases: ingest, training and promotion, serving (forecast, models, the model cache), the schedule.

`MLService` (ml_service.py) is the seed's facade over them; `Dependencies` builds the adapters once per
container.
"""
