"""Cold-start probe: the floor any Python handler that serves ONNX from S3 pays, `import numpy,
onnxruntime, boto3` (the runtime's full SDK), in a fresh process.

usage: python3.12 -S -B cold_floor.py CONFIG.json RESULT.json
"""

# ruff: noqa: E402  -- the clock starts before the imports it measures
import time

STARTED = time.perf_counter()
import boto3  # noqa: F401
import numpy  # noqa: F401  (imported for its cost)
import onnxruntime  # noqa: F401

IMPORTED = time.perf_counter()

import sys

from probe_support import write_result

if __name__ == "__main__":
    write_result(
        sys.argv[2], {"imports": IMPORTED - STARTED, "total": IMPORTED - STARTED, "modules": len(sys.modules)}
    )
