"""Serving benchmark (issue 4): cold start, warm latency, bundle sizes and training cost, in one run; and the
cold-start hacks priced by A/B variants (issue 11).

Run:  make bench-serving            (= OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.serving)
      python -m benchmarks.serving --cold-runs 20 --warm-requests 2000 [--no-build] [--skip-training]

Layout: the orchestrator (run.py: build, snapshot, moto set-up; bundles.py: the snapshot and the A/B variant
bundles; children.py: fresh processes; measure.py; report.py) runs the probes in probes/: real scripts, linted
and type-checked, each run in a fresh Python 3.12 process on a bundle (`-S`, a PYTHONPATH of the function,
its layers and the runtime's SDK only), so they import nothing but what the bundles hold, the standard
library and probes/probe_support.py beside them. variants/ holds the PredictFunction variant on
Powertools' resolver (benchmark only, never deployed).

What it does, in order:
  1. `make build` (sam build: every layer pip-installed for cp312 and shipped with unchecked-hash .pyc),
     then copies the prediction and training bundles to a scratch directory so a concurrent rebuild
     cannot change them mid-run. Bundle sizes (function + its layers, unzipped and zipped) come from
     tests/infrastructure/bundle_sizes.py on that build. The A/B variant bundles are built from the copy.
  2. Starts the moto stand-in (lead_ai_dev.local.stack), ingests 120 days of synthetic hourly leads through
     IngestFunction and trains + registers a model through TrainFunction (the real handler path). The very
     scikit-learn model that TrainFunction exports to ONNX is captured and `joblib.dump`ed to the moto
     bucket under `benchmark-baseline/` -- for the baseline only; no pickle exists in the product.
  3. Cold starts: fresh processes (Lambda's runtime, as above), each timing its phases with perf_counter
     from its first statement:
       handler:  imports (`import app`: module init, incl. the layer's trimmed botocore clients) |
                 model load (registry read, S3 get, onnxruntime session, observation window) | first
                 answer (lambda_handler with an API Gateway event, horizon 168)    probes/cold_handler.py
       floor:    `import numpy, onnxruntime, boto3` (+ the two clients)  probes/cold_floor[_clients].py
       baseline: imports (boto3, numpy, joblib, sklearn.ensemble) + clients | model load (S3 get +
                 joblib.load + the same observation window) | first answer (same features, sklearn
                 predict, JSON body)                                                 probes/cold_baseline.py
       A/B:      the handler on the runtime's stock botocore (untrimmed), and on
                 Powertools' APIGatewayRestResolver instead of RestApp (bundles.py); each must give the
                 shipped handler's very answer, and each is checked to run the SDK and router it names.
     Medians over --cold-runs rounds; each round runs every variant once in a shuffled order, with the
     shipped bytecode and (but the A/B variants) without it (PYTHONPYCACHEPREFIX = an empty directory:
     every module compiled from source, as happens when a bundle ships no .pyc on read-only /opt).
  4. Warm latency: one process on the same bundle imports the handler and sends --warm-requests API
     Gateway events per horizon (24 and 168) to lambda_handler with the production registry TTL (5 s),
     interleaved with the bare `InferenceSession.run` of the same forecast's rows (same session options)
     -- the floor. Registry and S3 reads during the loop are counted. The same on the resolver variant.
                                                                                     probes/warm_latency.py
  5. Training: train_forecaster with production settings (backtest, ONNX export, parity) on 1 and 5 years
     of hourly synthetic leads, each in a fresh process on the TrainFunction bundle (which, like Lambda,
     has no onnxruntime: parity runs on onnx.reference): wall time and peak RSS.   probes/train_cost.py
Writes benchmarks/results/serving.json and prints the table.
"""
