"""AWS adapters: clients, the series catalogue and model registry (DynamoDB), observations, artifacts (S3).

Every botocore error becomes the project's StorageError here; nothing above this package sees botocore.
"""
