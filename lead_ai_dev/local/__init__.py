"""Running the SAM bundle on a machine without Docker or an AWS account.

`template.py` reads template.yaml, `stack.py` stands up S3 and DynamoDB (a moto server on
127.0.0.1) from the template's definitions, `invoke.py` runs a function's handler in-process with
the environment the template declares. The code under test reaches the stand-in only through the
standard AWS_ENDPOINT_URL variable.
"""
