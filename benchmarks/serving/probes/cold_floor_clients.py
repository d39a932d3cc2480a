"""Cold-start probe: the floor plus the two clients any S3-model + DynamoDB handler creates (boto3's way).

usage: python3.12 -S -B cold_floor_clients.py CONFIG.json RESULT.json
"""

# ruff: noqa: E402  -- the clock starts before the imports it measures
import time

STARTED = time.perf_counter()
import boto3
import numpy  # noqa: F401  (imported for its cost)
import onnxruntime  # noqa: F401

IMPORTED = time.perf_counter()
s3 = boto3.client("s3")
dynamodb = boto3.client("dynamodb")
CREATED = time.perf_counter()

import sys

from probe_support import write_result

if __name__ == "__main__":
    write_result(
        sys.argv[2],
        {
            "imports": IMPORTED - STARTED,
            "clients": CREATED - IMPORTED,
            "total": CREATED - STARTED,
            "modules": len(sys.modules),
        },
    )
